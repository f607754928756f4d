import { join } from 'node:path';

/**
 * One Weixin client in a process of its own, so that its CPU time (`process.cpuUsage`) and its start-up
 * are its own. Started by peer-comparison.bench.ts with `fork`; talks over IPC:
 * `{ cmd: 'run', path, type, count, concurrency }` answers `{ wallMs, cpuMs }`; `{ cmd: 'exit' }` ends it.
 * With `--first` it uploads once and reports `performance.now()` (milliseconds since the process started).
 * Each client module is required only when chosen, so start-up figures hold only that client's cost.
 */
export type PeerKind = 'package' | 'raw' | 'wechat-api';

export interface PeerTarget {
  baseUrl: string;
  appId: string;
  appSecret: string;
}

export interface RunCommand {
  cmd: 'run';
  path: string;
  type: string;
  count: number;
  concurrency: number;
}

export interface RunReport {
  wallMs: number;
  cpuMs: number;
}

type Upload = (path: string, type: string) => Promise<void>;

/** Where wechat-api is installed for the benchmark only (`npm ci --prefix bench/peers`). */
export const PEERS_DIR = join(__dirname, '../../bench/peers');

async function packageClient(target: PeerTarget): Promise<Upload> {
  require('reflect-metadata');
  const { NestFactory } = require('@nestjs/core');
  const { WeixinMediaModule, TemporaryMediaService } = require('../lib');
  const app = await NestFactory.createApplicationContext(
    WeixinMediaModule.forRoot({
      appId: target.appId,
      appSecret: target.appSecret,
      apiBaseUrl: target.baseUrl,
      mediaCache: false,
    }),
    { logger: false },
  );
  const service = app.get(TemporaryMediaService);
  // Every call uploads, as the peers' do: reuse: false also opts out of sharing identical uploads in flight.
  return async (path, type) => {
    await service.upload(type, path, { reuse: false });
  };
}

/** What a user writes by hand: axios + form-data on a keep-alive agent, one stable token. */
async function rawClient(target: PeerTarget): Promise<Upload> {
  const axios = require('axios');
  const FormData = require('form-data');
  const { Agent } = require('node:http');
  const { createReadStream } = require('node:fs');
  const { stat } = require('node:fs/promises');
  const { basename } = require('node:path');
  const http = axios.create({
    baseURL: target.baseUrl,
    httpAgent: new Agent({ keepAlive: true }),
    maxBodyLength: Infinity,
  });
  let token: Promise<string> | undefined;
  const accessToken = () =>
    (token ??= http
      .post('/cgi-bin/stable_token', {
        grant_type: 'client_credential',
        appid: target.appId,
        secret: target.appSecret,
      })
      .then(({ data }: { data: { access_token: string } }) => data.access_token));
  return async (path, type) => {
    const [{ size }, access_token] = await Promise.all([stat(path), accessToken()]);
    const form = new FormData();
    form.append('media', createReadStream(path), {
      filename: basename(path),
      contentType: 'image/jpeg',
      knownLength: size,
    });
    const { data } = await http.post('/cgi-bin/media/upload', form, {
      params: { access_token, type },
      headers: form.getHeaders({ 'content-length': form.getLengthSync() }),
    });
    if (!data.media_id && !data.thumb_media_id) throw new Error(`raw upload failed: ${JSON.stringify(data)}`);
  };
}

/** wechat-api 1.35.1 as its README shows it, pointed at the fake through its `endpoint` field. */
async function wechatApiClient(target: PeerTarget): Promise<Upload> {
  const WechatAPI = require(join(PEERS_DIR, 'node_modules/wechat-api'));
  const api = new WechatAPI(target.appId, target.appSecret);
  api.endpoint = target.baseUrl;
  return (path, type) =>
    new Promise<void>((resolve, reject) =>
      api.uploadMedia(
        path,
        type,
        (error: Error | null, data: { media_id?: string; thumb_media_id?: string }) => {
          if (error) return reject(error);
          if (!data.media_id && !data.thumb_media_id) return reject(new Error(JSON.stringify(data)));
          resolve();
        },
      ),
    );
}

const CLIENTS: Record<PeerKind, (target: PeerTarget) => Promise<Upload>> = {
  package: packageClient,
  raw: rawClient,
  'wechat-api': wechatApiClient,
};

async function runRound(upload: Upload, command: RunCommand): Promise<RunReport> {
  let started = 0;
  const cpu = process.cpuUsage();
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: command.concurrency }, async () => {
      while (started < command.count) {
        started++;
        await upload(command.path, command.type);
      }
    }),
  );
  const wallMs = performance.now() - begin;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

async function main(): Promise<void> {
  const kind = process.argv[2] as PeerKind;
  const target: PeerTarget = JSON.parse(process.argv[3]);
  const upload = await CLIENTS[kind](target);
  if (process.argv[4] === '--first') {
    await upload(process.argv[5], process.argv[6]);
    process.send!({ firstUploadMs: performance.now() });
    process.exit(0);
  }
  process.on('message', (message: RunCommand | { cmd: 'exit' }) => {
    if (message.cmd === 'exit') process.exit(0);
    runRound(upload, message).then(
      (report) => process.send!(report),
      (error: Error) => process.send!({ error: String(error?.stack ?? error) }),
    );
  });
  process.send!({ ready: true });
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
