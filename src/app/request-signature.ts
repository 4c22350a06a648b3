import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The request parts a channel signs (docs/channel-api.md, Authentication). */
export interface SignedRequest {
  readonly method: string;
  /** Path without host or query string. */
  readonly path: string;
  /** Unix seconds, as sent in X-Timestamp. */
  readonly timestamp: string;
  readonly nonce: string;
  /** The raw body bytes; empty for GET. */
  readonly body: Uint8Array | string;
}

/** METHOD \n PATH \n X-Timestamp \n X-Nonce \n hex(SHA256(body)). */
export function stringToSign(request: SignedRequest): string {
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  return `${request.method.toUpperCase()}\n${request.path}\n${request.timestamp}\n${request.nonce}\n${bodyHash}`;
}

/** Lowercase hex HMAC-SHA256 with the channel secret. */
export function signRequest(secret: string, request: SignedRequest): string {
  return createHmac('sha256', secret).update(stringToSign(request)).digest('hex');
}

/** Constant-time comparison of a presented signature with the one computed from a secret. */
export function signatureMatches(secret: string, request: SignedRequest, presented: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(presented)) return false;
  const expected = Buffer.from(signRequest(secret, request), 'hex');
  return timingSafeEqual(expected, Buffer.from(presented, 'hex'));
}

export const TIMESTAMP_WINDOW_SECONDS = 300;
export const NONCE_WINDOW_SECONDS = 600;
export const NONCE_PATTERN = /^[\x21-\x7e]{8,64}$/;

/** Signed headers a client sends with one request (used by the simulator and the tests). */
export function signedHeaders(
  channelId: string,
  secret: string,
  request: Omit<SignedRequest, 'timestamp'> & { readonly at: Date },
): Record<string, string> {
  const timestamp = String(Math.floor(request.at.getTime() / 1000));
  const signature = signRequest(secret, { ...request, timestamp });
  return {
    'x-channel-id': channelId,
    'x-timestamp': timestamp,
    'x-nonce': request.nonce,
    'x-signature': signature,
  };
}
