import type { paths } from './api-types.js';

/** The dashboard talks only to the HTTP API; its types come from the OpenAPI document (api-types.ts). */

type SuccessJson<Operation> = Operation extends {
  responses: { 200: { content: { 'application/json': infer Body } } };
}
  ? Body
  : Operation extends { responses: { 201: { content: { 'application/json': infer Body } } } }
    ? Body
    : never;

/**
 * Every field a response schema lists, as present: the handlers send each one (null where there
 * is no value), though most response schemas do not mark their fields required.
 */
type Sent<T> = T extends (infer Item)[]
  ? Sent<Item>[]
  : T extends object
    ? { [K in keyof T]-?: Sent<Exclude<T[K], undefined>> }
    : T;

/** The JSON a route answers with on success, e.g. `Reply<'/api/v1/me'>`. */
export type Reply<Path extends keyof paths, Method extends 'get' | 'post' = 'get'> = Sent<
  SuccessJson<NonNullable<paths[Path][Method]>>
>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let token: string | null = sessionStorage.getItem('gc.token');

export function hasSession(): boolean {
  return token !== null;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  if (response.status === 204) return undefined as T;
  const payload = (await response.json()) as T & { error?: { code: string; message: string } };
  if (!response.ok) {
    if (response.status === 401 && path !== '/api/v1/auth/login') clearSession();
    throw new ApiError(
      response.status,
      payload.error?.code ?? 'error',
      payload.error?.message ?? response.statusText,
    );
  }
  return payload;
}

export async function logIn(login: string, password: string): Promise<void> {
  const result = await api<Reply<'/api/v1/auth/login', 'post'>>('/api/v1/auth/login', {
    method: 'POST',
    body: { login, password },
  });
  token = result.token;
  sessionStorage.setItem('gc.token', result.token);
}

export async function logOut(): Promise<void> {
  try {
    await api('/api/v1/auth/logout', { method: 'POST' });
  } finally {
    clearSession();
  }
}

function clearSession(): void {
  token = null;
  sessionStorage.removeItem('gc.token');
}
