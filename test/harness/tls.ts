/** A self-signed certificate for 127.0.0.1, and a PEM file of it for a client to trust (FARM_REPORTER_CA_FILE). */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { generate } from "selfsigned";

export async function localCertificate(dir: string, name: string): Promise<{ key: string; cert: string; caFile: string }> {
  const pems = await generate([{ name: "commonName", value: "127.0.0.1" }], {
    keySize: 2048,
    extensions: [
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 2, value: "localhost" },
        ],
      },
    ],
  });
  const caFile = path.join(dir, `${name}-ca.pem`);
  writeFileSync(caFile, pems.cert);
  return { key: pems.private, cert: pems.cert, caFile };
}
