/** `/ops`: the instances that answer presence, each stream's and consumer's depth, the work waiting by lane and tenant, the dead letters with a replay button. */
import { declaredFair, fairDepths, queueDepths, TOP_TENANTS, type FairState, type StreamStatus } from "../../../shared/pipeline/depths.js";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { decode } from "../../../shared/fabric/codec.js";
import type { DeadLetter } from "../../../shared/fabric/dlq.js";
import type { Farm } from "../../../shared/fabric/farm.js";
import { whoIsUp, type Presence } from "../../../shared/fabric/presence.js";
import { DLQ_STREAM } from "../../../shared/fabric/names.js";
import { html, type SafeHtml, gridTable, num } from "../html.js";
import { page, when } from "../layout.js";

/** Dead letters shown; the rest are counted. */
const DLQ_SHOWN = 100;
/** Bytes of a dead letter's payload shown. */
const PAYLOAD_SHOWN = 300;

function instances(list: Presence[]): SafeHtml {
  if (list.length === 0) return html`<p class="muted">No instance answered.</p>`;
  const sorted = [...list].sort((a, b) => a.service.localeCompare(b.service) || a.host.localeCompare(b.host));
  return gridTable(
    "",
    ["service", "host", num("pid"), "since"],
    sorted.map(
      (i) =>
        html`<tr>
          <td><span class="dot-up"></span>${i.service}</td>
          <td class="mono">${i.host}</td>
          <td class="num">${i.pid}</td>
          <td class="muted">${when(i.startedAt)}</td>
        </tr>`,
    ),
  );
}

function streams(list: StreamStatus[]): SafeHtml {
  const rows = list.flatMap((s) =>
    s.consumers.length === 0
      ? [
          html`<tr>
            <td>${s.stream}</td>
            <td class="muted">–</td>
            <td class="num">${s.messages}</td>
            <td class="num"></td>
            <td class="num"></td>
          </tr>`,
        ]
      : s.consumers.map(
          (c) =>
            html`<tr>
              <td>${s.stream}</td>
              <td class="mono">${c.name}</td>
              <td class="num ${c.pending ? "warn" : ""}">${c.pending}</td>
              <td class="num">${c.ackPending}</td>
              <td class="num">${c.redelivered}</td>
            </tr>`,
        ),
  );
  return gridTable("", ["stream", "consumer", num("pending"), num("in flight"), num("redelivered")], rows);
}

function lanes(list: FairState[]): SafeHtml {
  if (list.length === 0) return html`<p class="muted">Nothing is waiting in any lane.</p>`;
  // Interactive first, then the most tasks.
  const rank = (f: FairState) => (f.lane === "interactive" ? 0 : 1);
  const sorted = [...list].sort((a, b) => a.subject.localeCompare(b.subject) || rank(a) - rank(b) || b.messages - a.messages);
  return gridTable(
    "lanes",
    ["subject", "lane", "tenant", num("tasks")],
    sorted.map(
      (f) =>
        html`<tr>
          <td class="mono">${f.subject}</td>
          <td><span class="pill ${f.lane === "interactive" ? "pill-running" : ""}">${f.lane}</span></td>
          <td class="mono">${f.tenant}</td>
          <td class="num">${f.messages}</td>
        </tr>`,
    ),
  );
}

/** A control byte other than tab and line breaks: not text. */
const isControl = (b: number) => b < 9 || (b > 13 && b < 32);

function payload(d: DeadLetter): string {
  if (!d.data.some(isControl)) return Buffer.from(d.data).toString("utf8").slice(0, PAYLOAD_SHOWN);
  // farm's own tasks are msgpack (an admitted request, a manifest): shown as JSON; other binary payloads by their size.
  try {
    return JSON.stringify(decode(d.data, headersOf(d))).slice(0, PAYLOAD_SHOWN);
  } catch {
    return `(${d.data.length} bytes, binary)`;
  }
}

function headersOf(d: DeadLetter): MsgHdrs {
  const h = natsHeaders();
  for (const [k, vs] of Object.entries(d.headers)) for (const v of vs) h.append(k, v);
  return h;
}

function replayForm(seq: number | "all", enabled: boolean): SafeHtml {
  return html`<form method="post" action="/ops/replay" class="replay">
    <input type="hidden" name="seq" value="${seq}" />
    <input
      type="password"
      name="token"
      placeholder="operator token"
      autocomplete="current-password"
      required
      aria-label="operator token"
      ${enabled ? "" : html` disabled`}
    />
    <button type="submit" class="btn btn-primary" ${enabled ? "" : html` disabled title="set FARM_WEB_TOKEN to enable operator actions"`}>
      ${seq === "all" ? "Replay all" : "Replay"}
    </button>
  </form>`;
}

function deadLetters(list: DeadLetter[], total: number, enabled: boolean): SafeHtml {
  if (total === 0) return html`<p class="muted">The dead-letter stream is empty.</p>`;
  const rows = list.slice(0, DLQ_SHOWN).map(
    (d) =>
      html`<tr id="dlq-${d.seq}">
        <td class="num">${d.seq}</td>
        <td class="mono subject">${d.subject}</td>
        <td><span class="pill pill-${d.kind === "permanent" ? "failed" : "running"}">${d.kind}</span></td>
        <td class="num">${d.attempts}</td>
        <td class="reason">
          ${d.reason}
          <div class="mono muted small payload">${payload(d)}</div>
        </td>
        <td class="nowrap muted">${when(d.time)}</td>
        <td>${replayForm(d.seq, enabled)}</td>
      </tr>`,
  );
  return html`${gridTable("dlq", [num("#"), "subject", "kind", num("attempts"), "reason", "parked", ""], rows)}
    ${total > DLQ_SHOWN ? html`<p class="muted">and ${total - DLQ_SHOWN} more (<code>farm dlq ls</code>)</p>` : ""}
    <div class="replay-all">${replayForm("all", enabled)}</div>`;
}

export interface OpsNotice {
  kind: "ok" | "error";
  text: string;
}

export async function opsPage(farm: Farm, operatorEnabled: boolean, notice?: OpsNotice): Promise<string> {
  const [up, depth, waiting, dlqInfo] = await Promise.all([
    whoIsUp(farm.nc),
    queueDepths(farm),
    fairDepths(farm.jsm, declaredFair(farm)),
    farm.jsm.streams.info(DLQ_STREAM).catch(() => null),
  ]);
  const total = dlqInfo?.state.messages ?? 0;
  const dlq = total ? await farm.dlq.list() : [];
  const body = html`<h1>Operations</h1>
    ${notice ? html`<div class="notice notice-${notice.kind}" role="status">${notice.text}</div>` : ""}
    ${operatorEnabled ? "" : html`<div class="notice">Operator actions are off: start the web app with <code>FARM_WEB_TOKEN</code> set to replay dead letters.</div>`}
    <div class="two-col ops">
      <section class="card">
        <h2>Instances <span class="count">${up.length}</span></h2>
        ${instances(up)}
      </section>
      <section class="card">
        <h2>Streams and consumers</h2>
        ${streams(depth)}
      </section>
    </div>
    <section class="card">
      <h2>Waiting by lane and tenant</h2>
      <p class="muted small">
        Tasks of each fair stage in its stream (waiting or running); the ${TOP_TENANTS} tenants with the most per lane, the rest summed.
      </p>
      ${lanes(waiting)}
    </section>
    <section class="card">
      <h2>Dead letters <span class="count">${total}</span></h2>
      ${deadLetters(dlq, total, operatorEnabled)}
    </section>`;
  return page({ title: "Operations", section: "ops", body });
}
