import { describe, expect, it } from "vitest";
import { repoGate } from "../../../shared/pipeline/gate.js";

describe("repoGate: the gate a commit's .farm.json sets", () => {
  it("takes a known gate", () => {
    expect(repoGate('{"gate": "errors", "rules": {}}')).toEqual({ gate: "errors" });
  });

  it("says nothing when there is no .farm.json or it sets no gate", () => {
    expect(repoGate(undefined)).toEqual({});
    expect(repoGate('{"ignores": ["dist/"]}')).toEqual({});
  });

  it("turns an unknown gate into a note naming the choices, the operator's gate applying", () => {
    const { gate, note } = repoGate('{"gate": ["errors"]}');
    expect(gate).toBeUndefined();
    expect(note).toBe(`.farm.json: "gate" must be one of "new-errors", "errors", "none" (got ["errors"]); the operator's gate applies`);
  });

  it("an unreadable .farm.json is a note, never a throw", () => {
    expect(repoGate("{gate: none")).toEqual({ note: `.farm.json is not valid JSON: its "gate" was not read` });
  });
});
