/** GET /metrics of one registry over node:http, for Prometheus to scrape; 404 for anything else. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "pino";
import { FarmError } from "../fabric/errors.js";
import { PipelineErrorCodes } from "../pipeline/errors.js";

export interface MetricsServer {
  /** `http://host:port/metrics`, the port the server really got (FARM_METRICS_PORT=0: a free one). */
  url: string;
  close(): Promise<void>;
}

export async function serveMetrics(registry: Registry, opts: { host: string; port: number; log: Logger }): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if ((req.method !== "GET" && req.method !== "HEAD") || path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found: metrics are on GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": registry.contentType }).end(req.method === "HEAD" ? undefined : body),
      (err: Error) => {
        opts.log.warn({ err: err.message }, "metrics could not be collected");
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`metrics could not be collected: ${err.message}\n`);
      },
    );
  });
  const addr = await new Promise<AddressInfo>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new FarmError(
          `the metrics port ${opts.host}:${opts.port} ${err.code === "EADDRINUSE" ? "is already in use" : `cannot be listened on (${err.code ?? err.message})`}: set FARM_METRICS_PORT to another port (0: any free one)`,
          PipelineErrorCodes.PortUnavailable,
        ),
      ),
    );
    server.listen(opts.port, opts.host, () => resolve(server.address() as AddressInfo));
  });
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}/metrics`;
  opts.log.info({ url }, "metrics listening");
  return {
    url,
    close: async () => {
      // Prometheus keeps its connection alive between scrapes: end it, or close waits for it.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
