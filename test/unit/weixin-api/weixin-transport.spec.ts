import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { WeixinApiError, WeixinNetworkError } from '../../../lib';
import { RetryBudget } from '../../../lib/weixin-api/request-attempts';
import type { WeixinCall } from '../../../lib/weixin-api/weixin-transport';
import { rawJsonAnswer, standInHttp, standInTcp, type StandIn } from '../../support/stand-in-weixin';
import { transportFor } from '../../support/test-transport';

const SEND = '/cgi-bin/message/custom/send';
const TOKEN = 'transport-spec-token-0123456789';

/** A message send as the sending issue will make it: JSON, with a token, repeatable or not. */
function send(repeatable: boolean, budget = new RetryBudget(3)): WeixinCall & { answer: 'json' } {
  return {
    method: 'POST',
    path: SEND,
    query: { access_token: TOKEN },
    json: { touser: 'openid-1', msgtype: 'text', text: { content: 'hello' } },
    answer: 'json',
    repeatable,
    budget,
  };
}

/** A port nothing listens on (it was free a moment ago). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const unexpected = (): never => assert.fail('expected a rejection');

function assertNoToken(error: Error): void {
  const text = `${error.message}\n${error.stack}\n${JSON.stringify(error)}`;
  assert.ok(!text.includes(TOKEN), 'the access token leaked into the error');
}

describe('WeixinTransport: whether a call may be repeated', () => {
  const closing: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });
  const start = async (standIn: Promise<StandIn>, options?: Parameters<typeof transportFor>[1]) => {
    const server = await standIn;
    const transport = transportFor(server.baseUrl, options);
    closing.push(
      () => transport.onModuleDestroy(),
      () => server.close(),
    );
    return { server, transport };
  };

  it('a repeatable call that is reset after its request arrived is tried again within its budget', async () => {
    const { server, transport } = await start(standInTcp((socket) => socket.resetAndDestroy()));
    const budget = new RetryBudget(3);
    const error = await transport.request(send(true, budget)).then(unexpected, (caught: Error) => caught);
    assert.ok(error instanceof WeixinNetworkError, String(error));
    assert.equal(error.systemCode, 'ECONNRESET');
    assert.equal(error.maybeDelivered, false);
    assert.equal(server.requests.length, 3);
    assert.equal(budget.spent, 3);
    assertNoToken(error);
  });

  it('a call that may not be repeated is reset after its request arrived: rejected once, maybeDelivered', async () => {
    const { server, transport } = await start(standInTcp((socket) => socket.resetAndDestroy()));
    const error = await transport.request(send(false)).then(unexpected, (caught: Error) => caught);
    assert.ok(error instanceof WeixinNetworkError, String(error));
    assert.equal(error.maybeDelivered, true);
    assert.equal(error.systemCode, 'ECONNRESET');
    assert.match(error.message, /may have reached Weixin, so it was not sent again/);
    assert.equal(JSON.parse(JSON.stringify(error)).maybeDelivered, true);
    assert.equal(server.requests.length, 1);
    assertNoToken(error);
  });

  it('a reset on a reused keep-alive socket after the request went out is not repeated either', async () => {
    const { server, transport } = await start(
      standInTcp((socket, index) =>
        index === 0 ? socket.write(rawJsonAnswer({ errcode: 0, errmsg: 'ok' })) : socket.resetAndDestroy(),
      ),
    );
    assert.deepEqual(await transport.request(send(false)), { errcode: 0, errmsg: 'ok' });
    const error = await transport.request(send(false)).then(unexpected, (caught: Error) => caught);
    assert.ok(error instanceof WeixinNetworkError && error.maybeDelivered, String(error));
    assert.equal(server.requests.length, 2);
  });

  it('a call that may not be repeated times out once, maybeDelivered; a repeatable one is tried again', async () => {
    const { server, transport } = await start(
      standInTcp(() => undefined),
      { timeoutMs: 150 },
    );
    const once = await transport.request(send(false)).then(unexpected, (caught: Error) => caught);
    assert.ok(once instanceof WeixinNetworkError && once.timedOut && once.maybeDelivered, String(once));
    assert.equal(server.requests.length, 1);
    const again = await transport.request(send(true)).then(unexpected, (caught: Error) => caught);
    assert.ok(again instanceof WeixinNetworkError && again.timedOut && !again.maybeDelivered, String(again));
    assert.equal(server.requests.length, 4);
  });

  it('a 5xx page is not repeated for a send, but is for a repeatable call; -1 is retried for both', async () => {
    let answer = { status: 502, body: '<html><body>502 Bad Gateway</body></html>', type: 'text/html' };
    const { server, transport } = await start(
      standInHttp((_req, res) =>
        res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body),
      ),
    );
    const send502 = await transport.request(send(false)).then(unexpected, (caught: Error) => caught);
    assert.ok(send502 instanceof WeixinNetworkError && send502.maybeDelivered, String(send502));
    assert.equal(send502.status, 502);
    assert.equal(server.requests.length, 1);
    await assert.rejects(transport.request(send(true)), { name: 'WeixinNetworkError', status: 502 });
    assert.equal(server.requests.length, 4);
    answer = { status: 200, body: '{"errcode":-1,"errmsg":"system error"}', type: 'application/json' };
    const busy = await transport.request(send(false)).then(unexpected, (caught: Error) => caught);
    assert.ok(busy instanceof WeixinApiError && busy.errcode === -1, String(busy));
    assert.equal(server.requests.length, 7);
  });

  for (const repeatable of [true, false]) {
    it(`a refused connection is tried again (repeatable: ${repeatable}): the request never left`, async () => {
      const port = await freePort();
      const transport = transportFor(`http://127.0.0.1:${port}`);
      closing.push(() => transport.onModuleDestroy());
      const budget = new RetryBudget(3);
      const error = await transport
        .request(send(repeatable, budget))
        .then(unexpected, (caught: Error) => caught);
      assert.ok(error instanceof WeixinNetworkError, String(error));
      assert.equal(error.systemCode, 'ECONNREFUSED');
      assert.equal(error.maybeDelivered, false);
      assert.equal(budget.spent, 3, 'every try of the budget was made');
    });
  }

  it('a send refused at first is delivered once the stand-in listens: exactly one request arrives', async () => {
    const port = await freePort();
    const transport = transportFor(`http://127.0.0.1:${port}`, {
      retry: { attempts: 3, baseDelayMs: 2_000 },
    });
    closing.push(() => transport.onModuleDestroy());
    const budget = new RetryBudget(3);
    const sending = transport.request(send(false, budget));
    // The first try was refused; the stand-in starts listening during the backoff (at least 1 s).
    while (budget.spent === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const server = await standInTcp(
      (socket) => socket.write(rawJsonAnswer({ errcode: 0, errmsg: 'ok' })),
      port,
    );
    closing.push(() => server.close());
    assert.deepEqual(await sending, { errcode: 0, errmsg: 'ok' });
    assert.equal(server.requests.length, 1);
  });

  it("a caller's long-lived signal keeps no listener once its calls settle: answered, timed out or retried", async () => {
    let answer = true;
    const { server, transport } = await start(
      standInTcp((socket) => answer && socket.write(rawJsonAnswer({ errcode: 0, errmsg: 'ok' }))),
      { timeoutMs: 100, retry: { attempts: 3, baseDelayMs: 1 } },
    );
    const shutdown = new AbortController();
    const { signal } = shutdown;
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(await transport.request(send(false), signal), { errcode: 0, errmsg: 'ok' });
    }
    answer = false;
    const timedOut = await transport.request(send(true), signal).then(unexpected, (caught: Error) => caught);
    assert.ok(timedOut instanceof WeixinNetworkError && timedOut.timedOut, String(timedOut));
    assert.equal(server.requests.length, 23, 'the silent one was tried thrice, its budget');
    assert.equal(getEventListeners(signal, 'abort').length, 0);
  });

  it('closes its keep-alive sockets when the module is destroyed', async () => {
    const { server, transport } = await start(
      standInHttp((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":1}')),
    );
    await transport.request(send(true));
    const idle = Object.values(transport.agent.freeSockets).flat();
    assert.equal(idle.length, 1, 'one idle keep-alive socket');
    transport.onModuleDestroy();
    assert.equal(idle[0]!.destroyed, true);
    assert.equal(server.requests.length, 1);
  });

  it('keeps the base URL path, sends the query and asks for identity', async () => {
    const { server, transport } = await start(
      standInHttp((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":1}')),
    );
    const prefixed = transportFor(`${server.baseUrl}/weixin/`);
    closing.push(() => prefixed.onModuleDestroy());
    await prefixed.request({ ...send(true), method: 'GET', json: undefined, query: { media_id: 'a b' } });
    await transport.request(send(true));
    assert.equal(server.requests[0].url, `/weixin${SEND}?media_id=a+b`);
    assert.equal(server.requests[0].headers['accept-encoding'], 'identity');
    assert.equal(server.requests[1].url, `${SEND}?access_token=${TOKEN}`);
    assert.equal(server.requests[1].headers['content-type'], 'application/json');
  });
});
