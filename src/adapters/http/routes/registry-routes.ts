import type { FastifyPluginAsync } from 'fastify';
import { countyOverview } from '../../../app/queries/county-overview.js';
import { getCustomer } from '../../../app/queries/get-customer.js';
import { listCustomers } from '../../../app/queries/list-customers.js';
import { listAreas, listOrgUnits } from '../../../app/queries/list-org-units.js';
import { listTariffs } from '../../../app/queries/list-tariffs.js';
import { listAuditLog } from '../../../app/queries/list-audit-log.js';
import { errorResponses, staffRefSchema } from '../schemas.js';
import { requirePrincipal, type ServerDeps } from '../server.js';

const CATEGORIES = ['residential', 'commercial', 'large_industry', 'agriculture', 'temporary'];

const customerSummarySchema = {
  type: 'object',
  properties: {
    customerNo: { type: 'string' },
    name: { type: 'string' },
    category: { type: 'string', enum: CATEGORIES },
    stationId: { type: 'integer' },
    stationName: { type: 'string' },
    transformerAreaId: { type: 'integer' },
    transformerAreaName: { type: 'string' },
    address: { type: 'string' },
    billingMode: { type: 'string' },
    status: { type: 'string' },
    protected: { type: 'boolean' },
    totalDue: { type: 'string', description: 'yuan, 2 decimals' },
  },
} as const;

export function registryRoutes(deps: ServerDeps): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/overview',
      {
        schema: {
          summary: 'County overview: stations with customers, areas, staff and read figures',
          tags: ['registry'],
          response: {
            200: {
              type: 'object',
              properties: {
                county: {
                  type: ['object', 'null'],
                  properties: { name: { type: 'string' }, nameEn: { type: 'string' } },
                },
                billing: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      period: { type: 'string' },
                      bills: { type: 'integer' },
                      amount: { type: 'string' },
                    },
                  },
                },
                demo: {
                  type: ['object', 'null'],
                  properties: {
                    seed: { type: 'integer' },
                    firstPeriod: { type: 'string' },
                    lastPeriod: { type: 'string' },
                  },
                },
                stations: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      stationId: { type: 'integer' },
                      code: { type: 'string' },
                      name: { type: 'string' },
                      nameEn: { type: 'string' },
                      transformerAreas: { type: 'integer' },
                      staff: { type: 'integer' },
                      customers: { type: 'integer' },
                      customersByCategory: { type: 'object', additionalProperties: { type: 'integer' } },
                      protectedCustomers: { type: 'integer' },
                      prepaidCustomers: { type: 'integer' },
                      activeCustomers: { type: 'integer' },
                      latestPeriod: { type: ['string', 'null'] },
                      actualReads: { type: 'integer' },
                      estimatedReads: { type: 'integer' },
                    },
                  },
                },
              },
            },
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
            200: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  orgUnitId: { type: 'integer' },
                  parentId: { type: ['integer', 'null'] },
                  kind: { type: 'string' },
                  code: { type: 'string' },
                  name: { type: 'string' },
                  nameEn: { type: 'string' },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => listOrgUnits(deps.db, requirePrincipal(request)),
    );

    app.get<{ Querystring: { stationId?: number; asOf?: string } }>(
      '/areas',
      {
        schema: {
          summary: 'Feeder lines and transformer areas with the staff member answering for each (包线包片)',
          tags: ['registry'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { stationId: { type: 'integer' }, asOf: { type: 'string', format: 'date' } },
          },
          response: {
            200: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  areaId: { type: 'integer' },
                  stationId: { type: 'integer' },
                  parentAreaId: { type: ['integer', 'null'] },
                  kind: { type: 'string' },
                  code: { type: 'string' },
                  name: { type: 'string' },
                  transformerKva: { type: ['integer', 'null'] },
                  responsibleStaff: staffRefSchema,
                },
              },
            },
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

    app.get<{
      Querystring: {
        q?: string;
        stationId?: number;
        areaId?: number;
        category?: string;
        owing?: boolean;
        limit?: number;
        after?: number;
      };
    }>(
      '/customers',
      {
        schema: {
          summary: 'Customers in the caller’s scope, with the amount due from the journal',
          tags: ['customers'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              q: { type: 'string', maxLength: 64, description: 'customer number, name or address contains' },
              stationId: { type: 'integer' },
              areaId: { type: 'integer' },
              category: { type: 'string', enum: CATEGORIES },
              owing: { type: 'boolean' },
              limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
              after: { type: 'integer', description: 'keyset cursor: nextAfter of the previous page' },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                customers: { type: 'array', items: customerSummarySchema },
                nextAfter: { type: ['integer', 'null'] },
              },
            },
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

    app.get<{ Params: { customerNo: string } }>(
      '/customers/:customerNo',
      {
        schema: {
          summary: 'One customer: registry, responsible staff, meters and recent reads',
          tags: ['customers'],
          params: {
            type: 'object',
            properties: { customerNo: { type: 'string', pattern: '^[0-9]{6,20}$' } },
          },
          response: {
            200: {
              type: 'object',
              additionalProperties: true,
              properties: {
                customerNo: { type: 'string' },
                name: { type: 'string' },
                category: { type: 'string' },
                station: {
                  type: 'object',
                  properties: { id: { type: 'integer' }, name: { type: 'string' } },
                },
                transformerArea: {
                  type: 'object',
                  properties: { id: { type: 'integer' }, code: { type: 'string' }, name: { type: 'string' } },
                },
                responsibleStaff: staffRefSchema,
                address: { type: 'string' },
                phone: { type: ['string', 'null'] },
                nationalIdMasked: { type: ['string', 'null'] },
                billingMode: { type: 'string' },
                protected: { type: 'boolean' },
                protectionReason: { type: ['string', 'null'] },
                householdSize: { type: ['integer', 'null'] },
                contractCapacityKva: { type: ['string', 'null'] },
                pfStandard: { type: ['string', 'null'] },
                tariffCode: { type: 'string' },
                meteringSide: { type: 'string' },
                dueRule: { type: 'string' },
                occupancy: { type: 'string' },
                status: { type: 'string' },
                openedOn: { type: 'string' },
                closedOn: { type: ['string', 'null'] },
                withholding: {
                  type: ['object', 'null'],
                  properties: {
                    bankCode: { type: 'string' },
                    accountNoMasked: { type: ['string', 'null'] },
                    recentDebits: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          batchNo: { type: 'string' },
                          date: { type: 'string' },
                          amount: { type: 'string' },
                          debited: { type: 'boolean' },
                          code: { type: 'string' },
                          message: { type: 'string' },
                          receiptNo: { type: ['string', 'null'] },
                        },
                      },
                    },
                  },
                },
                meters: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      meterNo: { type: 'string' },
                      multiplier: { type: 'integer' },
                      registers: { type: 'array', items: { type: 'string' } },
                      installedOn: { type: 'string' },
                      removedOn: { type: ['string', 'null'] },
                    },
                  },
                },
                recentReads: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      period: { type: 'string' },
                      readOn: { type: 'string' },
                      meterNo: { type: 'string' },
                      kind: { type: 'string' },
                      source: { type: 'string' },
                      total: { type: ['string', 'null'] },
                    },
                  },
                },
              },
            },
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
            200: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  code: { type: 'string' },
                  name: { type: 'string' },
                  nameEn: { type: 'string' },
                  category: { type: 'string' },
                  structure: { type: 'string' },
                  versions: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        tariffVersionId: { type: 'integer' },
                        effectiveFrom: { type: 'string' },
                        effectiveTo: { type: ['string', 'null'] },
                        jurisdiction: { type: 'string' },
                        source: { type: 'string' },
                        definition: { type: 'object', additionalProperties: true },
                      },
                    },
                  },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => listTariffs(deps.db, requirePrincipal(request)),
    );

    app.get<{ Querystring: { limit?: number } }>(
      '/audit-log',
      {
        schema: {
          summary: 'Latest audit trail entries within the caller’s scope',
          tags: ['audit'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
          },
          response: {
            200: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  auditId: { type: 'integer' },
                  at: { type: 'string', format: 'date-time' },
                  actorKind: { type: 'string' },
                  actorId: { type: 'string' },
                  action: { type: 'string' },
                  objectType: { type: ['string', 'null'] },
                  objectId: { type: ['string', 'null'] },
                  details: { type: 'object', additionalProperties: true },
                  channel: { type: ['string', 'null'] },
                  osUser: { type: ['string', 'null'] },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => listAuditLog(deps.db, requirePrincipal(request), request.query.limit ?? 100),
    );
  };
}
