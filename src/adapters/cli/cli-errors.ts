/** Usage or configuration error: exit 2. */
export class UsageError extends Error {}

/** The command ran but some items failed (reported in its output): exit 1. */
export class ItemsFailed extends Error {}

/** Bad input data (a file that does not satisfy its contract): exit 1, one line naming the field. */
export class InputError extends Error {}
