import type { FastifyPluginAsync } from 'fastify';
import {
  addStaff,
  changeOwnPassword,
  listStaff,
  resetStaffPassword,
  setStaffActive,
} from '../../../app/staff-accounts.js';
import { STAFF_ROLES } from '../../../domain/staff-role.js';
import { MAX_PASSWORD_LENGTH } from '../../../domain/password-policy.js';
import { errorResponses, errorSchema } from '../schemas.js';
import { requirePrincipal, type ServerDeps } from '../server.js';

const passwordSchema = { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH } as const;

const staffRowSchema = {
  type: 'object',
  properties: {
    staffId: { type: 'integer' },
    login: { type: 'string' },
    name: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    orgCode: { type: 'string' },
    orgName: { type: 'string' },
    active: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    passwordChangedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

const loginParams = {
  type: 'object',
  required: ['login'],
  properties: { login: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

const changeResult = {
  type: 'object',
  properties: {
    login: { type: 'string' },
    active: { type: 'boolean' },
    sessionsEnded: { type: 'integer' },
  },
} as const;

const staffErrors = { ...errorResponses, 409: errorSchema, 422: errorSchema } as const;

/** Staff accounts for an administrator (within their org subtree) and each staff member's own password. */
export function staffRoutes(deps: ServerDeps): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/staff',
      {
        schema: {
          summary: 'Staff of the administrator’s org subtree',
          tags: ['staff'],
          response: { 200: { type: 'array', items: staffRowSchema }, ...errorResponses },
        },
      },
      async (request) => listStaff(deps.db, requirePrincipal(request)),
    );

    app.post<{
      Body: {
        login: string;
        name: string;
        roles: string[];
        orgCode: string;
        phone?: string;
        password: string;
      };
    }>(
      '/staff',
      {
        schema: {
          summary: 'Add a staff member (administrator); the password must meet the policy',
          tags: ['staff'],
          body: {
            type: 'object',
            required: ['login', 'name', 'roles', 'orgCode', 'password'],
            additionalProperties: false,
            properties: {
              login: { type: 'string', minLength: 1, maxLength: 64 },
              name: { type: 'string', minLength: 1, maxLength: 64 },
              roles: { type: 'array', minItems: 1, items: { type: 'string', enum: [...STAFF_ROLES] } },
              orgCode: { type: 'string', minLength: 1, maxLength: 64 },
              phone: { type: 'string', maxLength: 32 },
              password: passwordSchema,
            },
          },
          response: {
            201: { type: 'object', properties: { staffId: { type: 'integer' }, login: { type: 'string' } } },
            ...staffErrors,
          },
        },
      },
      async (request, reply) => {
        const result = await addStaff(deps, requirePrincipal(request), request.body);
        return reply.status(201).send(result);
      },
    );

    for (const [action, active] of [
      ['disable', false],
      ['enable', true],
    ] as const) {
      app.post<{ Params: { login: string } }>(
        `/staff/:login/${action}`,
        {
          schema: {
            summary:
              action === 'disable'
                ? 'Disable a staff member (administrator): they cannot log in and their sessions end'
                : 'Enable a disabled staff member again (administrator)',
            tags: ['staff'],
            params: loginParams,
            response: { 200: changeResult, ...staffErrors },
          },
        },
        async (request) => setStaffActive(deps, requirePrincipal(request), request.params.login, active),
      );
    }

    app.post<{ Params: { login: string }; Body: { password: string } }>(
      '/staff/:login/password',
      {
        schema: {
          summary: 'Reset a staff member’s password (administrator); their sessions end',
          tags: ['staff'],
          params: loginParams,
          body: {
            type: 'object',
            required: ['password'],
            additionalProperties: false,
            properties: { password: passwordSchema },
          },
          response: { 200: changeResult, ...staffErrors },
        },
      },
      async (request) =>
        resetStaffPassword(deps, requirePrincipal(request), request.params.login, request.body.password),
    );

    app.post<{ Body: { oldPassword: string; newPassword: string } }>(
      '/me/password',
      {
        schema: {
          summary: 'Change your own password (the current one is required); your other sessions end',
          tags: ['auth'],
          body: {
            type: 'object',
            required: ['oldPassword', 'newPassword'],
            additionalProperties: false,
            properties: { oldPassword: passwordSchema, newPassword: passwordSchema },
          },
          response: { 200: changeResult, ...staffErrors },
        },
      },
      async (request) =>
        changeOwnPassword(deps, requirePrincipal(request), {
          ...request.body,
          currentToken: bearerToken(request.headers.authorization),
        }),
    );
  };
}

export function bearerToken(header: string | undefined): string {
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
}
