/**
 * Effective lint configs travel by reference: a config can be megabytes (a
 * `.jshintrc` with a huge value) while a lint batch must fit one NATS message.
 * The splitter writes each distinct config once to the object store under a
 * name derived from its config id (the id is already a content hash of the
 * config and the linter versions, so the name never changes content); a batch
 * carries `settings: {configId: objectName}` and the runner reads and caches
 * them by id.
 */
import { encode } from "../../shared/fabric/codec.js";
import { mapLimit } from "../../shared/fabric/concurrency.js";
import type { FileLintConfig } from "../../shared/lint/index.js";
import { type Objects } from "../../shared/pipeline/stores/index.js";
import { objectNames } from "../../shared/pipeline/names.js";
import type { ToolchainSettings } from "../../shared/pipeline/toolchain-settings.js";

/** What a config id names in the object store: farm's own config, or a commit's toolchain settings (by settings id). */
export type StoredConfig = FileLintConfig | ToolchainSettings;

/** Writes the configs that are not in the object store yet (write-once: a reader is never disturbed). */
export async function storeConfigs(objects: Objects, configs: ReadonlyMap<string, StoredConfig>): Promise<void> {
  await mapLimit([...configs], 8, ([id, config]) => objects.putOnce(objectNames.lintConfig(id), encode(config)));
}
