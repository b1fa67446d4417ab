/**
 * A TLS certificate for tests: a throw-away CA and a leaf for `localhost`, 127.0.0.1 and ::1,
 * made with `openssl` when it is installed (rustls refuses a CA certificate used as a server
 * certificate, so a bare self-signed one would not do), else the fixed pair below, made the same
 * way once (valid ten years). Test-only key material; it protects nothing.
 */

/** PEM material for a TLS test. */
export interface TestCertificate {
  /** Server certificate chain (leaf). */
  readonly cert: string;
  /** Server private key. */
  readonly key: string;
  /** The CA a client must trust. */
  readonly ca: string;
  /** Where the files were written (`cert.pem`, `key.pem`, `ca.pem`). */
  readonly dir: string;
  /** Whether openssl made it (false: the embedded fallback). */
  readonly generated: boolean;
}

const FALLBACK_CA = `-----BEGIN CERTIFICATE-----
MIIBozCCAUmgAwIBAgIUZFUyDWQ6jCaqrVk2DjeFt1eYlRQwCgYIKoZIzj0EAwIw
HzEdMBsGA1UEAwwUVm9pY2VCbGVuZGVyIFRlc3QgQ0EwHhcNMjYxMTI1MjIxNjQ5
WhcNMzYxMTIyMjIxNjQ5WjAfMR0wGwYDVQQDDBRWb2ljZUJsZW5kZXIgVGVzdCBD
QTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABDupuSSdWFOk0Lbnpdnl6ehDNeJW
WxKuknuUvRGDielpXAHAZtMLKmPSzx3hBvz9h7snaO21EMH9OXQ9GLxtv3+jYzBh
MB0GA1UdDgQWBBRNPmc8lsGO2+Vgo8/pEPdareSaVTAfBgNVHSMEGDAWgBRNPmc8
lsGO2+Vgo8/pEPdareSaVTAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIC
BDAKBggqhkjOPQQDAgNIADBFAiEAq/XZ5bfvzShfOpgSQx++7cJRd1F4k1MOrgAQ
dr+ldCACIBHSv3zWnlMFlEOpkS9qWdGJ6F6cvro/K+QiX8bknPqy
-----END CERTIFICATE-----
`;
const FALLBACK_CERT = `-----BEGIN CERTIFICATE-----
MIIBxjCCAW2gAwIBAgIUWkAPdmCL2WXLI2A1MRwrHmAQvs0wCgYIKoZIzj0EAwIw
HzEdMBsGA1UEAwwUVm9pY2VCbGVuZGVyIFRlc3QgQ0EwHhcNMjYxMTI1MjIxNjQ5
WhcNMzYxMTIyMjIxNjQ5WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjO
PQIBBggqhkjOPQMBBwNCAARAUuNEeitz+oqcICrPINRwkpX94rD56lA6XniyfAiA
9QKNTsMxTC/8eMMNsVMgJmrHdHyWr5+9U2N3V5z700uto4GRMIGOMCwGA1UdEQQl
MCOCCWxvY2FsaG9zdIcEfwAAAYcQAAAAAAAAAAAAAAAAAAAAATAJBgNVHRMEAjAA
MBMGA1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdDgQWBBSDGT1VOzJcvXB+UjheC8rb
E9AnQDAfBgNVHSMEGDAWgBRNPmc8lsGO2+Vgo8/pEPdareSaVTAKBggqhkjOPQQD
AgNHADBEAiA9jviveu/YjDv/vB/03aDaKoXzRvdQ3yoW+LDb9sKnlQIgBkurVnp3
Map4ktQVaXEd/JpLvUNtQBeSObAypaRMrz8=
-----END CERTIFICATE-----
`;
const FALLBACK_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUlPEbr8EnDT7vgE7
3nO0Ioeorbu4guWd6TKgOH6+CJ2hRANCAARAUuNEeitz+oqcICrPINRwkpX94rD5
6lA6XniyfAiA9QKNTsMxTC/8eMMNsVMgJmrHdHyWr5+9U2N3V5z700ut
-----END PRIVATE KEY-----
`;

async function openssl(dir: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

async function generate(dir: string): Promise<boolean> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  return await openssl(dir, [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=VoiceBlender Test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ]) &&
    await openssl(dir, [
      "req",
      ...ec,
      "-keyout",
      "key.pem",
      "-out",
      "leaf.csr",
      "-subj",
      "/CN=localhost",
    ]) &&
    await openssl(dir, [
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "cert.pem",
      "-days",
      "2",
      "-extfile",
      "ext.cnf",
    ]);
}

/** Makes (or falls back to) a test certificate in a new temporary directory. */
export async function makeTestCertificate(): Promise<TestCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "sip_tls_test_" });
  if (await generate(dir)) {
    return {
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
      ca: await Deno.readTextFile(`${dir}/ca.pem`),
      dir,
      generated: true,
    };
  }
  await Deno.writeTextFile(`${dir}/cert.pem`, FALLBACK_CERT);
  await Deno.writeTextFile(`${dir}/key.pem`, FALLBACK_KEY);
  await Deno.writeTextFile(`${dir}/ca.pem`, FALLBACK_CA);
  return { cert: FALLBACK_CERT, key: FALLBACK_KEY, ca: FALLBACK_CA, dir, generated: false };
}
