/**
 * Who may do what. Operator actions (POST) always need FARM_WEB_TOKEN, given in
 * the form or an `Authorization: Bearer` header, never taken from the cookie:
 * a cross-site form cannot know it, so no CSRF token is needed. Read-only pages
 * are open on a loopback address; bound to any other they need the token too
 * (bearer, cookie, or `?token=`, which sets the cookie), unless public.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ErrorCodes, PermanentError } from "../../shared/fabric/errors.js";

export const TOKEN_COOKIE = "farm_token";

export interface AuthOptions {
  host: string;
  token?: string;
  public?: boolean;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Constant time, whatever the lengths: both sides are hashed first. */
function sameToken(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

function bearer(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  return m?.[1];
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

export class Auth {
  /** Read-only pages need the token: bound beyond loopback and not public. */
  readonly readsNeedToken: boolean;

  constructor(private readonly opts: AuthOptions) {
    this.readsNeedToken = !opts.public && !isLoopback(opts.host);
    if (this.readsNeedToken && !opts.token)
      throw new PermanentError(
        `the web app is bound to ${opts.host}, beyond this machine: set FARM_WEB_TOKEN, or say --public (FARM_WEB_PUBLIC=1) to open its read-only pages to all`,
        ErrorCodes.InvalidInput,
      );
  }

  /** Operator actions are possible at all (a token is configured). */
  get operatorEnabled(): boolean {
    return Boolean(this.opts.token);
  }

  matches(given: string | undefined): boolean {
    return given !== undefined && this.opts.token !== undefined && sameToken(given, this.opts.token);
  }

  /** May this request read pages? With `queryToken`, the `?token=` it carried. */
  mayRead(req: IncomingMessage, queryToken: string | null): boolean {
    if (!this.readsNeedToken) return true;
    return this.matches(bearer(req)) || this.matches(cookie(req, TOKEN_COOKIE)) || this.matches(queryToken ?? undefined);
  }

  /** May this request act? The token from the form or the bearer header only (see the module comment). */
  mayAct(req: IncomingMessage, formToken: string | undefined): boolean {
    return this.matches(bearer(req)) || this.matches(formToken);
  }

  /** The cookie that keeps a `?token=` reader signed in. */
  cookieFor(token: string): string {
    return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
  }
}
