import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  FORWARD_PATH,
  FORWARD_TOKEN_HEADER,
  type ForwardEvent,
  type ForwardRequest,
} from '../../cli/forward.js';
import type { CliSession } from '../../cli/cli-session.js';

export interface CliForwardDeps {
  /** The token of the lock's owner record; the socket's file modes are the first check. */
  readonly token: string;
  /** Runs one CLI command in this process; what it prints streams back to the client. */
  readonly run: (
    request: ForwardRequest,
    io: {
      out: (text: string) => void;
      err: (text: string) => void;
      /** A CLI session for the client to keep (null: to remove); see forward.ts. */
      session: (session: CliSession | null) => void;
    },
  ) => Promise<number>;
}

/**
 * The server's endpoint for CLI commands run while it holds the embedded database. Served only on
 * a Unix socket (mode 0600, in a directory only the OS user can enter), never on the TCP port.
 * The answer is one JSON object per line: {"out": …}, {"err": …}, then {"exit": code}.
 */
export function cliForwardRoutes(deps: CliForwardDeps): FastifyPluginAsyncTypebox {
  const expected = Buffer.from(deps.token);
  return async (app) => {
    app.post(
      FORWARD_PATH,
      {
        schema: {
          hide: true,
          body: Type.Object(
            {
              argv: Type.Array(Type.String(), { maxItems: 200 }),
              pid: Type.Integer(),
              stdin: Type.Optional(Type.String({ maxLength: 4096 })),
              sessionFile: Type.Optional(Type.String({ maxLength: 4096 })),
              session: Type.Optional(
                Type.Object(
                  {
                    login: Type.String({ maxLength: 200 }),
                    token: Type.String({ maxLength: 200 }),
                  },
                  { additionalProperties: false },
                ),
              ),
            },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        const given = Buffer.from(String(request.headers[FORWARD_TOKEN_HEADER] ?? ''));
        if (given.length !== expected.length || !timingSafeEqual(given, expected))
          return reply.code(403).send({ error: 'forbidden', message: 'wrong forwarding token' });
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8' });
        const send = (event: ForwardEvent) => raw.write(`${JSON.stringify(event)}\n`);
        let exit: number;
        try {
          exit = await deps.run(request.body, {
            out: (text) => send({ out: text }),
            err: (text) => send({ err: text }),
            session: (session) => send({ session }),
          });
        } catch (error) {
          send({ err: `gridcollect: ${(error as Error).message}\n` });
          exit = 1;
        }
        send({ exit });
        raw.end();
      },
    );
  };
}
