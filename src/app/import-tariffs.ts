import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { dayNumber, parseLocalDate } from '../domain/local-date.js';
import { BillInputError, parseBillTariff } from '../domain/tariff/price-bill.js';
import { AppError } from './errors.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';

const CATEGORIES = ['residential', 'commercial', 'large_industry', 'agriculture', 'temporary'];
const STRUCTURES = ['flat', 'tiered', 'tou', 'tiered_tou', 'two_part'];

export interface ImportTariffsResult {
  readonly tariffs: number;
  readonly versionsAdded: number;
  readonly versionsUnchanged: number;
}

interface VersionInput {
  readonly effectiveFrom: string;
  readonly effectiveTo: string | null;
  readonly jurisdiction: string;
  readonly source: string;
  readonly definition: unknown;
  readonly field: string;
}

/**
 * Imports tariffs as versioned data (电价版本). Each version's definition is validated by the
 * tariff engine; versions of one tariff may not overlap, neither within the file nor with what is
 * stored. A stored open-ended version is closed where a later one starts. A version already
 * stored with the same definition is left as it is; with a different one it is refused, because
 * bills were priced with it. Errors: forbidden, validation_failed, tariff_overlap,
 * tariff_version_conflict.
 */
export async function importTariffs(
  db: Kysely<DB>,
  principal: Principal,
  document: unknown,
): Promise<ImportTariffsResult> {
  return db.transaction().execute((trx) => storeTariffs(trx, principal, document));
}

/** importTariffs inside the caller's transaction (the demo county writes its tariff table this way). */
export async function storeTariffs(
  trx: Kysely<DB>,
  principal: Principal,
  document: unknown,
): Promise<ImportTariffsResult> {
  requirePermission(principal, 'tariff.manage');
  const tariffs = parseDocument(document);
  let versionsAdded = 0;
  let versionsUnchanged = 0;
  for (const tariff of tariffs) {
    await trx
      .insertInto('tariff')
      .values({
        tariff_code: tariff.code,
        name: tariff.name,
        name_en: tariff.nameEn,
        category: tariff.category,
        structure: tariff.structure,
      })
      .onConflict((conflict) =>
        conflict.column('tariff_code').doUpdateSet({ name: tariff.name, name_en: tariff.nameEn }),
      )
      .execute();
    const stored = await trx
      .selectFrom('tariff_version')
      .selectAll()
      .where('tariff_code', '=', tariff.code)
      .orderBy('effective_from')
      .execute();
    for (const version of tariff.versions) {
      const same = stored.find((row) => row.effective_from === version.effectiveFrom);
      if (same) {
        if (
          canonical(same.definition) !== canonical(version.definition) ||
          same.effective_to !== version.effectiveTo
        ) {
          throw new AppError(
            'tariff_version_conflict',
            `${version.field}: ${tariff.code} from ${version.effectiveFrom} is already stored with another definition; add a new version instead`,
          );
        }
        versionsUnchanged += 1;
        continue;
      }
      const start = dayNumber(version.effectiveFrom as never);
      const end = version.effectiveTo ? dayNumber(version.effectiveTo as never) : Number.POSITIVE_INFINITY;
      for (const row of stored) {
        const rowStart = dayNumber(row.effective_from as never);
        const rowEnd = row.effective_to ? dayNumber(row.effective_to as never) : Number.POSITIVE_INFINITY;
        const closable = row.effective_to === null && rowStart < start;
        if (start < rowEnd && rowStart < end && !closable) {
          throw new AppError(
            'tariff_overlap',
            `${version.field}: overlaps ${tariff.code} ${row.effective_from}–${row.effective_to ?? '…'}`,
          );
        }
        if (closable) {
          await trx
            .updateTable('tariff_version')
            .set({ effective_to: version.effectiveFrom })
            .where('tariff_version_id', '=', row.tariff_version_id)
            .execute();
        }
      }
      await trx
        .insertInto('tariff_version')
        .values({
          tariff_code: tariff.code,
          effective_from: version.effectiveFrom,
          effective_to: version.effectiveTo,
          jurisdiction: version.jurisdiction,
          source: version.source,
          definition: JSON.stringify(version.definition),
        })
        .execute();
      versionsAdded += 1;
      stored.push(
        ...(await trx
          .selectFrom('tariff_version')
          .selectAll()
          .where('tariff_code', '=', tariff.code)
          .where('effective_from', '=', version.effectiveFrom)
          .execute()),
      );
    }
  }
  await recordAudit(trx, principal, {
    action: 'tariff.import',
    objectType: 'tariff',
    objectId: tariffs.map((tariff) => tariff.code).join(','),
    details: { versionsAdded, versionsUnchanged },
  });
  return { tariffs: tariffs.length, versionsAdded, versionsUnchanged };
}

function parseDocument(document: unknown) {
  const fail = (field: string, reason: string): never => {
    throw new AppError('validation_failed', `${field}: ${reason}`);
  };
  const root = document as { tariffs?: unknown };
  if (
    typeof document !== 'object' ||
    document === null ||
    !Array.isArray(root.tariffs) ||
    root.tariffs.length === 0
  ) {
    return fail('tariffs', 'must be a non-empty array');
  }
  return root.tariffs.map((raw, k) => {
    const field = `tariffs[${k}]`;
    const tariff = raw as Record<string, unknown>;
    if (typeof tariff.code !== 'string' || !/^[A-Z0-9-]{2,32}$/.test(tariff.code))
      fail(`${field}.code`, 'must be 2–32 upper-case letters, digits or "-"');
    if (typeof tariff.name !== 'string' || tariff.name.length === 0) fail(`${field}.name`, 'is required');
    if (!CATEGORIES.includes(String(tariff.category)))
      fail(`${field}.category`, `must be one of ${CATEGORIES.join(', ')}`);
    if (!STRUCTURES.includes(String(tariff.structure)))
      fail(`${field}.structure`, `must be one of ${STRUCTURES.join(', ')}`);
    if (!Array.isArray(tariff.versions) || tariff.versions.length === 0)
      fail(`${field}.versions`, 'must be a non-empty array');
    const versions: VersionInput[] = (tariff.versions as Record<string, unknown>[]).map((version, v) => {
      const vField = `${field}.versions[${v}]`;
      const from = typeof version.effectiveFrom === 'string' ? parseLocalDate(version.effectiveFrom) : null;
      if (!from) fail(`${vField}.effectiveFrom`, 'must be a date YYYY-MM-DD');
      const to =
        version.effectiveTo === undefined || version.effectiveTo === null
          ? null
          : typeof version.effectiveTo === 'string'
            ? parseLocalDate(version.effectiveTo)
            : null;
      if (version.effectiveTo !== undefined && version.effectiveTo !== null && !to)
        fail(`${vField}.effectiveTo`, 'must be a date YYYY-MM-DD or null');
      if (to && from && to <= from) fail(`${vField}.effectiveTo`, 'must be after effectiveFrom');
      if (typeof version.jurisdiction !== 'string' || !version.jurisdiction)
        fail(`${vField}.jurisdiction`, 'is required');
      if (typeof version.source !== 'string' || !version.source)
        fail(`${vField}.source`, 'is required: where the prices come from');
      try {
        parseBillTariff(version.definition, `${vField}.definition`);
      } catch (error) {
        if (error instanceof BillInputError) fail(error.field, error.message.slice(error.field.length + 2));
        throw error;
      }
      return {
        effectiveFrom: from!,
        effectiveTo: to,
        jurisdiction: String(version.jurisdiction),
        source: String(version.source),
        definition: version.definition,
        field: vField,
      };
    });
    const sorted = [...versions].sort((a, b) => (a.effectiveFrom < b.effectiveFrom ? -1 : 1));
    sorted.forEach((version, v) => {
      const next = sorted[v + 1];
      if (next && (version.effectiveTo === null || version.effectiveTo > next.effectiveFrom)) {
        fail(next.field, `overlaps the version from ${version.effectiveFrom} in the same file`);
      }
    });
    return {
      code: String(tariff.code),
      name: String(tariff.name),
      nameEn: typeof tariff.nameEn === 'string' ? tariff.nameEn : String(tariff.name),
      category: String(tariff.category),
      structure: String(tariff.structure),
      versions: sorted,
    };
  });
}

/** JSON with object keys sorted, so that jsonb's own key order does not count as a change. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
