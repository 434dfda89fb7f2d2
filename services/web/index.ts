/**
 * The web service: one more NATS client, serving the web app's pages. It
 * reads only through public subjects (history.*, report.get, events,
 * presence, the stream API) and keeps no state but the live analyses.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { encode } from "../../shared/fabric/codec.js";
import type { AnalysisRequest } from "../../shared/pipeline/contract.js";
import type { Service, ServiceContext } from "../../shared/pipeline/service.js";
import { subjects } from "../../shared/pipeline/names.js";
import { traceHeaders } from "../../shared/fabric/tracing.js";
import { loadAssets } from "./assets.js";
import { Auth } from "./auth.js";
import { HistoryClient } from "./history.js";
import { LiveFeed } from "./live.js";
import { handleHook } from "./hooks.js";
import { createHandler, type HookHandler } from "./server.js";

export interface WebOptions {
  port: number;
  host: string;
  /** FARM_WEB_TOKEN: operator actions need it always; read-only pages too when bound beyond loopback. */
  token?: string;
  /** FARM_WEB_PUBLIC: read-only pages open to all wherever bound. */
  public?: boolean;
}

export interface WebService extends Service {
  /** Where the app is, e.g. http://127.0.0.1:8080/ */
  url: string;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function urlOf(addr: AddressInfo): string {
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}/`;
}

/** The webhooks, with the secrets of the config; what they accept is queued on repo.new_sha like any client's request. */
function hooksOf(ctx: ServiceContext & WebOptions, log: ServiceContext["log"]): HookHandler {
  const publish = async (request: AnalysisRequest) => void (await ctx.farm.js.publish(subjects.newSha, encode(request, "json"), { headers: traceHeaders() }));
  const deps = { publish, githubSecret: ctx.config.webhookSecret, gitlabToken: ctx.config.gitlabToken, pushToken: ctx.token, log };
  return (req: IncomingMessage, res: ServerResponse) => handleHook(req, res, deps);
}

export async function startWeb(ctx: ServiceContext & WebOptions): Promise<WebService> {
  const log = ctx.log.child({ service: "web" });
  const auth = new Auth({ host: ctx.host, token: ctx.token, public: ctx.public });
  const live = new LiveFeed(ctx.farm);
  const handler = createHandler({ farm: ctx.farm, history: new HistoryClient(ctx.farm), live, auth, assets: loadAssets(), log, hooks: hooksOf(ctx, log) });
  const server = createServer(handler);
  live.start();
  const addr = await listen(server, ctx.port, ctx.host).catch((err) => (live.close(), Promise.reject(err as Error)));
  const url = urlOf(addr);
  log.info({ url, readsNeedToken: auth.readsNeedToken, operator: auth.operatorEnabled }, "web app listening");
  return {
    name: "web",
    url,
    // A client of the others only: it answers $SRV (presence, version) with no endpoint of its own.
    endpoints: [],
    close: async () => {
      // Event streams never end by themselves: end them so the server can close.
      live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
