// A real Bluesky PDS (reference implementation) and a PLC directory, on loopback only.
//
//   node start-pds.mjs --plc-port 2582 --pds-port 2583 --data-dir /tmp/pds
//
// Prints one JSON line {"ready": true, ...} once both answer, then runs until SIGTERM,
// SIGINT or its stdin closes (so a test runner that dies takes the servers with it).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import pdsPkg from '@atproto/pds';
import plcPkg from '@did-plc/server';

const { PDS, envToCfg, envToSecrets, readEnv } = pdsPkg;
const { PlcServer, Database } = plcPkg;

const HOST = '127.0.0.1';

const { values: args } = parseArgs({
  options: {
    'plc-port': { type: 'string' },
    'pds-port': { type: 'string' },
    'data-dir': { type: 'string' },
  },
});
for (const name of ['plc-port', 'pds-port', 'data-dir']) {
  if (!args[name]) {
    console.error(`missing --${name}`);
    process.exit(2);
  }
}
const plcPort = Number(args['plc-port']);
const pdsPort = Number(args['pds-port']);
const dataDir = args['data-dir'];

// Both servers call app.listen(port), which binds every interface; pin them to loopback.
function bindLoopback(app) {
  const listen = app.listen.bind(app);
  app.listen = (port, ...rest) => listen(port, HOST, ...rest);
}

const plc = PlcServer.create({ db: Database.mock(), port: plcPort });
bindLoopback(plc.app);
await plc.start();

mkdirSync(join(dataDir, 'blobs'), { recursive: true });
Object.assign(process.env, {
  PDS_HOSTNAME: 'localhost',
  PDS_DEV_MODE: 'true',
  PDS_PORT: String(pdsPort),
  PDS_DATA_DIRECTORY: dataDir,
  PDS_BLOBSTORE_DISK_LOCATION: join(dataDir, 'blobs'),
  PDS_DID_PLC_URL: `http://${HOST}:${plcPort}`,
  PDS_JWT_SECRET: randomBytes(16).toString('hex'),
  PDS_ADMIN_PASSWORD: process.env.PDS_ADMIN_PASSWORD || randomBytes(12).toString('hex'),
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: randomBytes(32).toString('hex'),
  PDS_INVITE_REQUIRED: 'false',
  PDS_CRAWLERS: '',
  LOG_ENABLED: process.env.LOG_ENABLED || 'false',
});
const env = readEnv();
const pds = await PDS.create(envToCfg(env), envToSecrets(env));
bindLoopback(pds.app);
await pds.start();

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled([pds.destroy(), plc.destroy()]);
  process.exit(code);
}
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
process.stdin.on('end', () => stop(0));
process.stdin.on('error', () => stop(0));
process.stdin.resume();

console.log(
  JSON.stringify({
    ready: true,
    pds: `http://${HOST}:${pdsPort}`,
    plc: `http://${HOST}:${plcPort}`,
  }),
);
