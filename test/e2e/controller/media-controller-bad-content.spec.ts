import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { describeBadInput, MB, oversized } from '../../support/controller-bad-input';
import { eventually, multipartContentType } from '../../support/media-controller-app';
import { mediaFixture } from '../../support/paths';

describeBadInput('media controller: bad content and too large', (t) => {
  describe('content', () => {
    it('an empty file: 400 40006', () =>
      t.refused(() => t.post('?type=image').attach('media', mediaFixture('empty.jpg')), 400, 40006));

    it('random bytes named .jpg: 400 40005', () =>
      t.refused(() => t.post('?type=image').attach('media', mediaFixture('spoof-random.jpg')), 400, 40005));

    it('an executable named .png: 400 40005', () =>
      t.refused(() => t.post('?type=image').attach('media', mediaFixture('spoof-exe.png')), 400, 40005));

    it('text named .mp3 as voice: 400 40005', () =>
      t.refused(() => t.post('?type=voice').attach('media', mediaFixture('spoof-text.mp3')), 400, 40005));

    it('a PNG as thumb (JPEG only): 400 40005', () =>
      t.refused(() => t.post('?type=thumb').attach('media', mediaFixture('image.png')), 400, 40005));

    it('a WAV as voice: 400 40005', () =>
      t.refused(() => t.post('?type=voice').attach('media', mediaFixture('voice-speech.wav')), 400, 40005));

    it('a 61 s voice: 400 40005 saying the limit', () =>
      t.refused(
        () => t.post('?type=voice').attach('media', mediaFixture('voice-61s.mp3')),
        400,
        40005,
        /60 s/,
      ));

    it('a 61 s AMR voice: 400 40005', () =>
      t.refused(() => t.post('?type=voice').attach('media', mediaFixture('voice-61s.amr')), 400, 40005));
  });

  describe('too large: 413 40006 with the limit, reading stops there', () => {
    const cases = [
      { type: 'image', bytes: 10 * MB + 1, limit: /10 MB/ },
      { type: 'voice', bytes: 2 * MB + 1, limit: /2 MB/ },
      { type: 'video', bytes: 10 * MB + 1, limit: /10 MB/ },
      { type: 'thumb', bytes: 64 * 1024 + 1, limit: /64 KB/ },
    ];
    for (const { type, bytes, limit } of cases) {
      it(`${type}: one byte over`, () =>
        t.refused(
          () =>
            t
              .post(`?type=${type}`)
              .attach(
                'media',
                oversized(bytes),
                `big.${type === 'voice' ? 'mp3' : type === 'video' ? 'mp4' : 'jpg'}`,
              ),
          413,
          40006,
          limit,
        ));
    }

    it('thumb-too-large.jpg as thumb', () =>
      t.refused(
        () => t.post('?type=thumb').attach('media', mediaFixture('thumb-too-large.jpg')),
        413,
        40006,
        /64 KB/,
      ));

    it('a 3 MB voice with the type only in the form: the rules answer 413', () =>
      t.refused(
        () =>
          t
            .post()
            .field('type', 'voice')
            .attach('media', oversized(3 * MB), 'long.mp3'),
        413,
        40006,
        /2 MB/,
      ));

    it('a 40 MB body: the answer comes at the limit, and the server stops reading soon after', async () => {
      const head = Buffer.from(
        '--b\r\nContent-Disposition: form-data; name="media"; filename="huge.jpg"\r\nContent-Type: image/jpeg\r\n\r\n',
      );
      const total = 40 * MB;
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let serverSocket: Socket | undefined;
      t.ctx.app.getHttpServer().once('connection', (socket: Socket) => (serverSocket = socket));
      const result = await new Promise<{ response: string; sentAtAnswer: number; accepted: number }>(
        (resolve) => {
          let accepted = 0;
          let written = 0;
          let sentAtAnswer = -1;
          let response = '';
          const socket = connect(t.ctx.port, '127.0.0.1');
          socket.on('data', (data: Buffer) => {
            if (sentAtAnswer < 0) sentAtAnswer = written;
            response += data.toString('latin1');
          });
          socket.on('error', () => undefined);
          socket.on('close', () => resolve({ response, sentAtAnswer, accepted }));
          socket.write(
            `POST /weixin/media?type=thumb HTTP/1.1\r\nHost: x\r\nContent-Type: ${multipartContentType('b')}\r\n` +
              `Content-Length: ${total}\r\n\r\n`,
          );
          socket.write(head);
          const pump = (): void => {
            while (written < total && !socket.destroyed) {
              written += chunk.length;
              const more = socket.write(chunk, (error) => {
                if (!error) accepted += chunk.length;
              });
              if (!more) return void socket.once('drain', pump);
            }
          };
          pump();
        },
      );
      const [head_, body] = result.response.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head_)?.[1]);
      await t.refused(async () => ({ status, body: JSON.parse(body) }), 413, 40006, /64 KB/);
      assert.match(head_, /connection: close/i);
      assert.ok(result.sentAtAnswer < 16 * MB, `answered after ${result.sentAtAnswer} bytes`);
      // What the server read: the limit (64 KB) + the grace after the answer (4 MB) + what was in flight
      // (about 2 MB of socket and parser buffers on loopback).
      assert.ok(await eventually(() => serverSocket?.destroyed === true));
      const read = serverSocket!.bytesRead;
      assert.ok(read < 8 * MB, `the server stopped reading after ${read} bytes of 40 MB`);
      assert.ok(result.accepted < total, `the client could not send it all: ${result.accepted} bytes`);
    });
  });
});
