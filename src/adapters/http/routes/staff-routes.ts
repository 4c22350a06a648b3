import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  type StaffListRow,
  addStaff,
  changeOwnPassword,
  listStaff,
  resetStaffPassword,
  setStaffActive,
} from '../../../app/staff-accounts.js';
import { STAFF_ROLES } from '../../../domain/staff-role.js';
import { MAX_PASSWORD_LENGTH } from '../../../domain/password-policy.js';
import { Nullable, StringEnum, errorResponses, errorSchema } from '../schemas.js';
import { requirePrincipal, type ServerDeps } from '../server.js';

const passwordSchema = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });

const staffRowSchema = Type.Object({
  staffId: Type.Integer(),
  login: Type.String(),
  name: Type.String(),
  roles: Type.Immutable(Type.Array(Type.String())),
  orgCode: Type.String(),
  orgName: Type.String(),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  passwordChangedAt: Nullable(Type.String({ format: 'date-time' })),
});

const loginParams = Type.Object({ login: Type.String({ minLength: 1, maxLength: 64 }) });

const activeChange = Type.Object({
  login: Type.String(),
  active: Type.Boolean(),
  sessionsEnded: Type.Integer(),
});

const passwordChange = Type.Object({ login: Type.String(), sessionsEnded: Type.Integer() });

const staffErrors = { ...errorResponses, 409: errorSchema, 422: errorSchema } as const;

/** A staff row as the API shows it (times as ISO timestamps). */
function staffView(row: StaffListRow) {
  return {
    ...row,
    createdAt: row.createdAt.toISOString(),
    passwordChangedAt: row.passwordChangedAt?.toISOString() ?? null,
  };
}

/** Staff accounts for an administrator (within their org subtree) and each staff member's own password. */
export function staffRoutes(deps: ServerDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/staff',
      {
        schema: {
          summary: 'Staff of the administrator’s org subtree',
          tags: ['staff'],
          response: { 200: Type.Array(staffRowSchema), ...errorResponses },
        },
      },
      async (request) => (await listStaff(deps.db, requirePrincipal(request))).map(staffView),
    );

    app.post(
      '/staff',
      {
        schema: {
          summary: 'Add a staff member (administrator); the password must meet the policy',
          tags: ['staff'],
          body: Type.Object(
            {
              login: Type.String({ minLength: 1, maxLength: 64 }),
              name: Type.String({ minLength: 1, maxLength: 64 }),
              roles: Type.Array(StringEnum([...STAFF_ROLES]), { minItems: 1 }),
              orgCode: Type.String({ minLength: 1, maxLength: 64 }),
              phone: Type.Optional(Type.String({ maxLength: 32 })),
              password: passwordSchema,
            },
            { additionalProperties: false },
          ),
          response: {
            201: Type.Object({ staffId: Type.Integer(), login: Type.String() }),
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
      app.post(
        `/staff/:login/${action}`,
        {
          schema: {
            summary:
              action === 'disable'
                ? 'Disable a staff member (administrator): they cannot log in and their sessions end'
                : 'Enable a disabled staff member again (administrator)',
            tags: ['staff'],
            params: loginParams,
            response: { 200: activeChange, ...staffErrors },
          },
        },
        async (request) => setStaffActive(deps, requirePrincipal(request), request.params.login, active),
      );
    }

    app.post(
      '/staff/:login/password',
      {
        schema: {
          summary: 'Reset a staff member’s password (administrator); their sessions end',
          tags: ['staff'],
          params: loginParams,
          body: Type.Object({ password: passwordSchema }, { additionalProperties: false }),
          response: { 200: passwordChange, ...staffErrors },
        },
      },
      async (request) =>
        resetStaffPassword(deps, requirePrincipal(request), request.params.login, request.body.password),
    );

    app.post(
      '/me/password',
      {
        schema: {
          summary: 'Change your own password (the current one is required); your other sessions end',
          tags: ['auth'],
          body: Type.Object(
            { oldPassword: passwordSchema, newPassword: passwordSchema },
            { additionalProperties: false },
          ),
          response: { 200: passwordChange, ...staffErrors },
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
