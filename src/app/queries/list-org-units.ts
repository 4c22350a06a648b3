import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { type Principal, requirePermission } from '../principal.js';
import { inScopeSql } from '../ledger/scope.js';

export interface OrgUnitNode {
  readonly orgUnitId: number;
  readonly parentId: number | null;
  readonly kind: string;
  readonly code: string;
  readonly name: string;
  readonly nameEn: string;
}

/** The org units of the principal's subtree. Errors: forbidden. */
export async function listOrgUnits(db: Kysely<DB>, principal: Principal): Promise<OrgUnitNode[]> {
  requirePermission(principal, 'registry.read');
  const rows = await db
    .selectFrom('org_unit')
    .select(['org_unit_id', 'parent_id', 'kind', 'code', 'name', 'name_en'])
    .where(inScopeSql(principal, 'path'))
    .orderBy('path')
    .execute();
  return rows.map((row) => ({
    orgUnitId: row.org_unit_id,
    parentId: row.parent_id,
    kind: row.kind,
    code: row.code,
    name: row.name,
    nameEn: row.name_en,
  }));
}

export interface AreaNode {
  readonly areaId: number;
  readonly stationId: number;
  readonly parentAreaId: number | null;
  readonly kind: string;
  readonly code: string;
  readonly name: string;
  readonly transformerKva: number | null;
  readonly responsibleStaff: {
    readonly staffId: number;
    readonly name: string;
    readonly since: string;
  } | null;
}

/** Feeder lines and transformer areas of a station (or of the whole scope) with who answers for each on asOf. */
export async function listAreas(
  db: Kysely<DB>,
  principal: Principal,
  filter: { readonly stationId?: number; readonly asOf: string },
): Promise<AreaNode[]> {
  requirePermission(principal, 'registry.read');
  let query = db
    .selectFrom('area')
    .innerJoin('org_unit as station', 'station.org_unit_id', 'area.station_id')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('area_assignment')
          .innerJoin('staff', 'staff.staff_id', 'area_assignment.staff_id')
          .select(['staff.staff_id', 'staff.name as staff_name', 'area_assignment.valid_from'])
          .whereRef('area_assignment.area_id', '=', 'area.area_id')
          .where('area_assignment.valid_from', '<=', filter.asOf)
          .orderBy('area_assignment.valid_from', 'desc')
          .limit(1)
          .as('holder'),
      (join) => join.onTrue(),
    )
    .select([
      'area.area_id',
      'area.station_id',
      'area.parent_area_id',
      'area.kind',
      'area.code',
      'area.name',
      'area.transformer_kva',
      'holder.staff_id',
      'holder.staff_name',
      'holder.valid_from',
    ])
    .where(inScopeSql(principal, 'station.path'))
    .orderBy('area.code');
  if (filter.stationId !== undefined) query = query.where('area.station_id', '=', filter.stationId);
  const rows = await query.execute();
  return rows.map((row) => ({
    areaId: row.area_id,
    stationId: row.station_id,
    parentAreaId: row.parent_area_id,
    kind: row.kind,
    code: row.code,
    name: row.name,
    transformerKva: row.transformer_kva,
    responsibleStaff:
      row.staff_id !== null && row.staff_name !== null && row.valid_from !== null
        ? { staffId: row.staff_id, name: row.staff_name, since: row.valid_from }
        : null,
  }));
}
