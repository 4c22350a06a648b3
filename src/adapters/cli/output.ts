import { AsyncLocalStorage } from 'node:async_hooks';
import { SingleBar } from 'cli-progress';
import stringWidth from 'string-width';
import { cellText, columnHeader } from './localize.js';

/**
 * Prints rows as an aligned text table (CJK-aware widths), headers and enum cells in the
 * invocation's language (localize.ts); `columns` are the rows' keys.
 */
export function formatTable(rows: readonly object[], columns: readonly string[]): string {
  const cells = rows.map((row) =>
    columns.map((column) => cellText(column, (row as Record<string, unknown>)[column])),
  );
  const headers = columns.map(columnHeader);
  const widths = headers.map((header, k) =>
    Math.max(stringWidth(header), ...cells.map((cell) => stringWidth(cell[k]!))),
  );
  const pad = (text: string, width: number) => text + ' '.repeat(width - stringWidth(text));
  const lines = [
    headers.map((header, k) => pad(header, widths[k]!)).join('  '),
    widths.map((width) => '-'.repeat(width)).join('  '),
  ];
  for (const row of cells)
    lines.push(
      row
        .map((cell, k) => pad(cell, widths[k]!))
        .join('  ')
        .trimEnd(),
    );
  return `${lines.join('\n')}\n`;
}

const withoutProgress = new AsyncLocalStorage<true>();

/** Runs `work` with progress bars off: a command forwarded to a server must not draw on its terminal. */
export function runWithoutProgress<T>(work: () => Promise<T>): Promise<T> {
  return withoutProgress.run(true, work);
}

/** A progress bar on standard error when it is a terminal; silent otherwise (pipes, --json, CI, forwarded). */
export function progressBar(
  label: string,
  enabled: boolean,
): { update(done: number, total: number): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY || withoutProgress.getStore()) return { update() {}, stop() {} };
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
  });
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
