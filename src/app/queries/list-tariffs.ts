import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { type Principal, requirePermission } from '../principal.js';

export interface TariffView {
  readonly code: string;
  readonly name: string;
  readonly nameEn: string;
  readonly category: string;
  readonly structure: string;
  readonly versions: readonly {
    readonly tariffVersionId: number;
    readonly effectiveFrom: string;
    readonly effectiveTo: string | null;
    readonly jurisdiction: string;
    readonly source: string;
    readonly definition: unknown;
  }[];
}

/** Every tariff with its versions in date order. Errors: forbidden. */
export async function listTariffs(db: Kysely<DB>, principal: Principal): Promise<TariffView[]> {
  requirePermission(principal, 'registry.read');
  const [tariffs, versions] = await Promise.all([
    db.selectFrom('tariff').selectAll().orderBy('tariff_code').execute(),
    db.selectFrom('tariff_version').selectAll().orderBy('tariff_code').orderBy('effective_from').execute(),
  ]);
  return tariffs.map((tariff) => ({
    code: tariff.tariff_code,
    name: tariff.name,
    nameEn: tariff.name_en,
    category: tariff.category,
    structure: tariff.structure,
    versions: versions
      .filter((version) => version.tariff_code === tariff.tariff_code)
      .map((version) => ({
        tariffVersionId: version.tariff_version_id,
        effectiveFrom: version.effective_from,
        effectiveTo: version.effective_to,
        jurisdiction: version.jurisdiction,
        source: version.source,
        definition: version.definition,
      })),
  }));
}
