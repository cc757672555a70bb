// The gateway's admin API for one model (routing, version states, load and unload), called with
// the token the user typed into the Models page.
import { getJson, sendJson } from './api.js';

export interface VersionStatus {
  readonly version: string;
  readonly state: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface Routing {
  readonly active: string;
  readonly previous: string | null;
  readonly canary: { readonly version: string; readonly weight: number } | null;
  readonly shadow: string | null;
}

export interface AdminModel {
  readonly name: string;
  readonly routing: Routing;
  readonly versions: readonly VersionStatus[];
}

export interface RoutingChange {
  readonly active?: string;
  readonly canary?: { readonly version: string; readonly weight: number } | null;
  readonly shadow?: string | null;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const base = (name: string) => `admin/v1/models/${encodeURIComponent(name)}`;

export const adminModel = (token: string, name: string): Promise<AdminModel> => getJson(base(name), auth(token));

export const route = (token: string, name: string, change: RoutingChange): Promise<AdminModel> =>
  sendJson('PUT', `${base(name)}/routing`, change, auth(token));

export const rollback = (token: string, name: string): Promise<AdminModel> =>
  sendJson('POST', `${base(name)}/rollback`, undefined, auth(token));
