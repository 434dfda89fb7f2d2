/** Exit codes and the one-line message of the errors the CLI meets (docs/cli.md, "Exit codes"). */
import { errors as natsErrors } from "@nats-io/transport-node";
import { describe, expect, test } from "vitest";
import { errorLine, exitCodeOf } from "../../../cli/context.js";
import { EXIT, UsageError } from "../../../cli/errors.js";
import { ClusterUnreachableError } from "../../../shared/fabric/connection.js";
import { StoreInUseError } from "../../../shared/runtime/embedded.js";
import { FarmError, isPermanent, NoRespondersError, PermanentError, TimeoutError } from "../../../shared/fabric/errors.js";

describe("exitCodeOf", () => {
  test.each([
    ["a usage error", new UsageError("bad flag"), EXIT.usage],
    ["a permanent error", new PermanentError("bad input", "E_BAD"), EXIT.usage],
    ["an unreachable cluster", new ClusterUnreachableError("nats://x:1", new Error("refused")), EXIT.unreachable],
    ["a store in use", new StoreInUseError("/d/nats", 1234), EXIT.unreachable],
    ["a NATS request timeout", new natsErrors.TimeoutError(), EXIT.unreachable],
    ["no reply from a farm worker", new TimeoutError("report.get", 1000), EXIT.unreachable],
    ["nobody serving the subject", new NoRespondersError("report.get"), EXIT.unreachable],
    ["anything else", new Error("bug"), EXIT.internal],
  ])("%s", (_what, err, code) => {
    expect(exitCodeOf(err)).toBe(code);
  });
});

test("an unreachable cluster is a FarmError with its own code, its cause kept", () => {
  const cause = new Error("ECONNREFUSED");
  const err = new ClusterUnreachableError("nats://x:1", cause);
  expect(err).toBeInstanceOf(FarmError);
  expect({ name: err.name, code: err.code, cause: err.cause, permanent: isPermanent(err) }).toEqual({
    name: "ClusterUnreachableError",
    code: "E_CLUSTER_UNREACHABLE",
    cause,
    permanent: false,
  });
});

describe("errorLine", () => {
  test("the NATS client's bare timeout says what it means and what to do", () => {
    expect(new natsErrors.TimeoutError().message).toBe("timeout");
    expect(errorLine(new natsErrors.TimeoutError())).toMatch(/did not answer in time.*try again/);
  });

  test("other errors: their first line", () => {
    expect(errorLine(new Error("first\nsecond"))).toBe("first");
    expect(errorLine(new NoRespondersError("report.get"))).toBe('no worker serves "report.get": start one, or check the subject');
  });
});
