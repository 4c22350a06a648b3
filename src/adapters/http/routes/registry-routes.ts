import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { countyOverview } from '../../../app/queries/county-overview.js';
import { getCustomer } from '../../../app/queries/get-customer.js';
import { listCustomers } from '../../../app/queries/list-customers.js';
import { listAreas, listOrgUnits } from '../../../app/queries/list-org-units.js';
import { listTariffs } from '../../../app/queries/list-tariffs.js';
import { listAuditLog } from '../../../app/queries/list-audit-log.js';
import { AnyObject, Nullable, StringEnum, errorResponses, staffRefSchema } from '../schemas.js';
import { requirePrincipal, type ServerDeps } from '../server.js';

const CATEGORIES = ['residential', 'commercial', 'large_industry', 'agriculture', 'temporary'];

const customerSummarySchema = Type.Object({
  customerNo: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  category: Type.Optional(StringEnum(CATEGORIES)),
  stationId: Type.Optional(Type.Integer()),
  stationName: Type.Optional(Type.String()),
  transformerAreaId: Type.Optional(Type.Integer()),
  transformerAreaName: Type.Optional(Type.String()),
  address: Type.Optional(Type.String()),
  billingMode: Type.Optional(Type.String()),
  status: Type.Optional(Type.String()),
  protected: Type.Optional(Type.Boolean()),
  totalDue: Type.Optional(Type.String({ description: 'yuan, 2 decimals' })),
});

export function registryRoutes(deps: ServerDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/overview',
      {
        schema: {
          summary: 'County overview: stations with customers, areas, staff and read figures',
          tags: ['registry'],
          response: {
            200: Type.Object({
              county: Type.Optional(
                Nullable(
                  Type.Object({ name: Type.Optional(Type.String()), nameEn: Type.Optional(Type.String()) }),
                ),
              ),
              billing: Type.Optional(
                Type.Immutable(
                  Type.Array(
                    Type.Object({
                      period: Type.Optional(Type.String()),
                      bills: Type.Optional(Type.Integer()),
                      amount: Type.Optional(Type.String()),
                    }),
                  ),
                ),
              ),
              demo: Type.Optional(
                Nullable(
                  Type.Object({
                    seed: Type.Optional(Type.Integer()),
                    firstPeriod: Type.Optional(Type.String()),
                    lastPeriod: Type.Optional(Type.String()),
                  }),
                ),
              ),
              stations: Type.Optional(
                Type.Immutable(
                  Type.Array(
                    Type.Object({
                      stationId: Type.Optional(Type.Integer()),
                      code: Type.Optional(Type.String()),
                      name: Type.Optional(Type.String()),
                      nameEn: Type.Optional(Type.String()),
                      transformerAreas: Type.Optional(Type.Integer()),
                      staff: Type.Optional(Type.Integer()),
                      customers: Type.Optional(Type.Integer()),
                      customersByCategory: Type.Optional({
                        type: 'object',
                        additionalProperties: { type: 'integer' },
                      } as const),
                      protectedCustomers: Type.Optional(Type.Integer()),
                      prepaidCustomers: Type.Optional(Type.Integer()),
                      activeCustomers: Type.Optional(Type.Integer()),
                      latestPeriod: Type.Optional(Nullable(Type.String())),
                      actualReads: Type.Optional(Type.Integer()),
                      estimatedReads: Type.Optional(Type.Integer()),
                    }),
                  ),
                ),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => countyOverview(deps.db, requirePrincipal(request)),
    );

    app.get(
      '/org-units',
      {
        schema: {
          summary: 'Org units of the caller’s subtree (county → station → team)',
          tags: ['registry'],
          response: {
            200: Type.Immutable(
              Type.Array(
                Type.Object({
                  orgUnitId: Type.Optional(Type.Integer()),
                  parentId: Type.Optional(Nullable(Type.Integer())),
                  kind: Type.Optional(Type.String()),
                  code: Type.Optional(Type.String()),
                  name: Type.Optional(Type.String()),
                  nameEn: Type.Optional(Type.String()),
                }),
              ),
            ),
            ...errorResponses,
          },
        },
      },
      async (request) => listOrgUnits(deps.db, requirePrincipal(request)),
    );

    app.get(
      '/areas',
      {
        schema: {
          summary: 'Feeder lines and transformer areas with the staff member answering for each (包线包片)',
          tags: ['registry'],
          querystring: Type.Object(
            {
              stationId: Type.Optional(Type.Integer()),
              asOf: Type.Optional(Type.String({ format: 'date' })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Immutable(
              Type.Array(
                Type.Object({
                  areaId: Type.Optional(Type.Integer()),
                  stationId: Type.Optional(Type.Integer()),
                  parentAreaId: Type.Optional(Nullable(Type.Integer())),
                  kind: Type.Optional(Type.String()),
                  code: Type.Optional(Type.String()),
                  name: Type.Optional(Type.String()),
                  transformerKva: Type.Optional(Nullable(Type.Integer())),
                  responsibleStaff: Type.Optional(staffRefSchema),
                }),
              ),
            ),
            ...errorResponses,
          },
        },
      },
      async (request) =>
        listAreas(deps.db, requirePrincipal(request), {
          ...(request.query.stationId !== undefined ? { stationId: request.query.stationId } : {}),
          asOf: request.query.asOf ?? deps.clock.today(),
        }),
    );

    app.get(
      '/customers',
      {
        schema: {
          summary: 'Customers in the caller’s scope, with the amount due from the journal',
          tags: ['customers'],
          querystring: Type.Object(
            {
              q: Type.Optional(
                Type.String({ maxLength: 64, description: 'customer number, name or address contains' }),
              ),
              stationId: Type.Optional(Type.Integer()),
              areaId: Type.Optional(Type.Integer()),
              category: Type.Optional(StringEnum(CATEGORIES)),
              owing: Type.Optional(Type.Boolean()),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
              after: Type.Optional(
                Type.Integer({ description: 'keyset cursor: nextAfter of the previous page' }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              customers: Type.Optional(Type.Immutable(Type.Array(customerSummarySchema))),
              nextAfter: Type.Optional(Nullable(Type.Integer())),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const query = request.query;
        const limit = query.limit ?? 50;
        const customers = await listCustomers(deps.db, requirePrincipal(request), {
          limit,
          ...(query.q ? { search: query.q } : {}),
          ...(query.stationId !== undefined ? { stationId: query.stationId } : {}),
          ...(query.areaId !== undefined ? { transformerAreaId: query.areaId } : {}),
          ...(query.category ? { category: query.category } : {}),
          ...(query.owing ? { owing: true } : {}),
          ...(query.after !== undefined ? { afterCustomerId: query.after } : {}),
        });
        return {
          customers,
          nextAfter: customers.length === limit ? (customers.at(-1)?.customerId ?? null) : null,
        };
      },
    );

    app.get(
      '/customers/:customerNo',
      {
        schema: {
          summary: 'One customer: registry, responsible staff, meters and recent reads',
          tags: ['customers'],
          params: Type.Object({ customerNo: Type.String({ pattern: '^[0-9]{6,20}$' }) }),
          response: {
            200: Type.Object(
              {
                customerNo: Type.Optional(Type.String()),
                name: Type.Optional(Type.String()),
                category: Type.Optional(Type.String()),
                station: Type.Optional(
                  Type.Object({ id: Type.Optional(Type.Integer()), name: Type.Optional(Type.String()) }),
                ),
                transformerArea: Type.Optional(
                  Type.Object({
                    id: Type.Optional(Type.Integer()),
                    code: Type.Optional(Type.String()),
                    name: Type.Optional(Type.String()),
                  }),
                ),
                responsibleStaff: Type.Optional(staffRefSchema),
                address: Type.Optional(Type.String()),
                phone: Type.Optional(Nullable(Type.String())),
                nationalIdMasked: Type.Optional(Nullable(Type.String())),
                billingMode: Type.Optional(Type.String()),
                protected: Type.Optional(Type.Boolean()),
                protectionReason: Type.Optional(Nullable(Type.String())),
                householdSize: Type.Optional(Nullable(Type.Integer())),
                contractCapacityKva: Type.Optional(Nullable(Type.String())),
                pfStandard: Type.Optional(Nullable(Type.String())),
                tariffCode: Type.Optional(Type.String()),
                meteringSide: Type.Optional(Type.String()),
                dueRule: Type.Optional(Type.String()),
                occupancy: Type.Optional(Type.String()),
                status: Type.Optional(Type.String()),
                openedOn: Type.Optional(Type.String()),
                closedOn: Type.Optional(Nullable(Type.String())),
                withholding: Type.Optional(
                  Nullable(
                    Type.Object({
                      bankCode: Type.Optional(Type.String()),
                      accountNoMasked: Type.Optional(Nullable(Type.String())),
                      recentDebits: Type.Optional(
                        Type.Immutable(
                          Type.Array(
                            Type.Object({
                              batchNo: Type.Optional(Type.String()),
                              date: Type.Optional(Type.String()),
                              amount: Type.Optional(Type.String()),
                              debited: Type.Optional(Type.Boolean()),
                              code: Type.Optional(Type.String()),
                              message: Type.Optional(Type.String()),
                              receiptNo: Type.Optional(Nullable(Type.String())),
                            }),
                          ),
                        ),
                      ),
                    }),
                  ),
                ),
                meters: Type.Optional(
                  Type.Immutable(
                    Type.Array(
                      Type.Object({
                        meterNo: Type.Optional(Type.String()),
                        multiplier: Type.Optional(Type.Integer()),
                        registers: Type.Optional(Type.Immutable(Type.Array(Type.String()))),
                        installedOn: Type.Optional(Type.String()),
                        removedOn: Type.Optional(Nullable(Type.String())),
                      }),
                    ),
                  ),
                ),
                recentReads: Type.Optional(
                  Type.Immutable(
                    Type.Array(
                      Type.Object({
                        period: Type.Optional(Type.String()),
                        readOn: Type.Optional(Type.String()),
                        meterNo: Type.Optional(Type.String()),
                        kind: Type.Optional(Type.String()),
                        source: Type.Optional(Type.String()),
                        total: Type.Optional(Nullable(Type.String())),
                      }),
                    ),
                  ),
                ),
              },
              { additionalProperties: true },
            ),
            ...errorResponses,
          },
        },
      },
      async (request) =>
        getCustomer(deps.db, requirePrincipal(request), request.params.customerNo, deps.clock.today()),
    );

    app.get(
      '/tariffs',
      {
        schema: {
          summary: 'Tariffs (电价) with their dated versions',
          tags: ['registry'],
          response: {
            200: Type.Immutable(
              Type.Array(
                Type.Object({
                  code: Type.Optional(Type.String()),
                  name: Type.Optional(Type.String()),
                  nameEn: Type.Optional(Type.String()),
                  category: Type.Optional(Type.String()),
                  structure: Type.Optional(Type.String()),
                  versions: Type.Optional(
                    Type.Immutable(
                      Type.Array(
                        Type.Object({
                          tariffVersionId: Type.Optional(Type.Integer()),
                          effectiveFrom: Type.Optional(Type.String()),
                          effectiveTo: Type.Optional(Nullable(Type.String())),
                          jurisdiction: Type.Optional(Type.String()),
                          source: Type.Optional(Type.String()),
                          definition: Type.Optional(AnyObject()),
                        }),
                      ),
                    ),
                  ),
                }),
              ),
            ),
            ...errorResponses,
          },
        },
      },
      async (request) => listTariffs(deps.db, requirePrincipal(request)),
    );

    app.get(
      '/audit-log',
      {
        schema: {
          summary: 'Latest audit trail entries within the caller’s scope',
          tags: ['audit'],
          querystring: Type.Object(
            { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Immutable(
              Type.Array(
                Type.Object({
                  auditId: Type.Optional(Type.Integer()),
                  at: Type.Optional(Type.String({ format: 'date-time' })),
                  actorKind: Type.Optional(Type.String()),
                  actorId: Type.Optional(Type.String()),
                  action: Type.Optional(Type.String()),
                  objectType: Type.Optional(Nullable(Type.String())),
                  objectId: Type.Optional(Nullable(Type.String())),
                  details: Type.Optional(AnyObject()),
                  channel: Type.Optional(Nullable(Type.String())),
                  osUser: Type.Optional(Nullable(Type.String())),
                }),
              ),
            ),
            ...errorResponses,
          },
        },
      },
      async (request) =>
        (await listAuditLog(deps.db, requirePrincipal(request), request.query.limit ?? 100)).map((row) => ({
          ...row,
          at: row.at.toISOString(),
        })),
    );
  };
}
