import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { signedHeaders } from '../../src/app/request-signature.js';
import { TEST_NOW } from './server.js';

/** A channel response as tests read it: status and the parsed JSON body, inspected field by field. */
export interface ChannelResponse {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response fields without declaring each shape
  readonly body: Record<string, any>;
}

export interface ChannelCredentials {
  readonly channelId: string;
  readonly secret: string;
}

/** Sends one signed channel request through the server's inject, as a bank would over HTTP. */
export async function channelRequest(
  app: FastifyInstance,
  credentials: ChannelCredentials,
  path: string,
  body: unknown,
  options: {
    readonly at?: Date;
    readonly nonce?: string;
    readonly rawBody?: string;
    readonly tamper?: (headers: Record<string, string>) => void;
  } = {},
): Promise<ChannelResponse> {
  const payload = options.rawBody ?? JSON.stringify(body);
  const headers = signedHeaders(credentials.channelId, credentials.secret, {
    method: 'POST',
    path,
    nonce: options.nonce ?? randomBytes(12).toString('hex'),
    body: payload,
    at: options.at ?? TEST_NOW,
  });
  options.tamper?.(headers);
  const response = await app.inject({
    method: 'POST',
    url: path,
    headers: { ...headers, 'content-type': 'application/json' },
    payload,
  });
  return { status: response.statusCode, body: response.json() };
}
