import assert from 'node:assert/strict';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { FakeWeixinServer } from '../../../lib/testing';
import type { SampleApp } from '../../../sample/sample-app';
import { mediaFixture, REPO_ROOT } from '../../support/paths';
import { startSampleApp } from '../../support/sample-app';

/** Chromium from PATH (`npm test` installs it, see test/system-packages), or CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH || findOnPath('chromium') || 'chromium';
/**
 * Into the ignored build folder, so `npm test` leaves the tree as it found it; `npm run docs:screenshot` sets
 * SCREENSHOT_PATH to refresh the README's picture.
 */
const SCREENSHOT = resolve(REPO_ROOT, process.env.SCREENSHOT_PATH || '.build/sample-upload-page.png');
const UPLOAD = '/cgi-bin/media/upload';
const IMAGE = readFileSync(mediaFixture('image.jpg'));
const LONG_VOICE = readFileSync(mediaFixture('voice-61s.mp3'));
const THREE_DAYS_MS = 3 * 24 * 60 * 60 * 1000;

function findOnPath(command: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, command))
    .find((path) => {
      try {
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** The few browser globals the tests use inside the page (the tests compile without DOM types). */
interface BrowserGlobals {
  DataTransfer: new () => { items: { add(file: unknown): void } };
  File: new (parts: Uint8Array[], name: string, options: { type: string }) => unknown;
  MutationObserver: new (callback: () => void) => { observe(node: unknown, options: object): void };
  document: { getElementById(id: string): { textContent: string } };
  atob(base64: string): string;
  progressSeen: string[];
}

/** The sample's upload page in a real headless Chromium, against the sample on its embedded fake Weixin. */
describe('sample: upload page in a real browser', () => {
  let sample: SampleApp;
  let fake: FakeWeixinServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let imageMediaId: string;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      // Never a skip: the browser test is part of the suite. `npm test` installs Chromium when missing.
      throw new Error(
        `Chromium is missing at ${CHROMIUM}: install it with "apt-get install -y chromium" (npm test does as root) ` +
          'or set CHROMIUM_PATH',
      );
    }
    sample = await startSampleApp();
    fake = sample.fake!;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await browser.newContext({ viewport: { width: 900, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    await page.goto(`${sample.url}/?token=${encodeURIComponent(sample.uploadToken)}`);
  });
  after(async () => {
    await browser?.close();
    await sample?.close();
  });

  it('shows the library rules per type and keeps the token out of the address bar', async () => {
    await page.locator('#rules tbody tr').nth(3).waitFor();
    const rows = await page.locator('#rules tbody tr').allInnerTexts();
    assert.equal(rows.length, 4);
    const voice = rows.find((row) => row.startsWith('voice'));
    assert.match(voice ?? '', /2 MB\s+AMR, MP3\s+60 s/);
    assert.match(rows.find((row) => row.startsWith('thumb')) ?? '', /64 KB\s+JPEG/);
    assert.equal(new URL(page.url()).searchParams.get('token'), null);
    assert.equal(await page.locator('#token-panel').isVisible(), false, 'the token came with the link');
  });

  it('uploads an image and shows its media_id and expiry', async () => {
    await page.selectOption('#type', 'image');
    await page.setInputFiles('#file', mediaFixture('image.jpg'));
    // Every text the progress bar's label shows during the upload.
    await page.evaluate(() => {
      const dom = globalThis as unknown as BrowserGlobals;
      const label = dom.document.getElementById('progress-text');
      dom.progressSeen = [];
      new dom.MutationObserver(() => dom.progressSeen.push(label.textContent)).observe(label, {
        childList: true,
      });
    });
    await page.click('#upload-button');
    const result = page.locator('#results li.result.ok').first();
    await result.waitFor();
    const progressSeen = await page.evaluate(() => (globalThis as unknown as BrowserGlobals).progressSeen);
    assert.ok(progressSeen.includes('100 %'), `the progress bar reached 100 % (${progressSeen.join(', ')})`);
    assert.equal(await page.locator('#progress').isVisible(), false, 'and went away with the answer');
    imageMediaId = (await result.locator('.media-id').innerText()).trim();
    const stored = fake.getMedia(imageMediaId);
    assert.ok(stored, `the fake holds ${imageMediaId}`);
    assert.equal(stored.type, 'image');
    assert.ok(stored.data.equals(IMAGE), 'the bytes arrived intact');
    const expiresAt = Date.parse((await result.locator('time.expires-at').getAttribute('datetime')) ?? '');
    assert.ok(
      Math.abs(expiresAt - (stored.createdAt + THREE_DAYS_MS)) < 2_000,
      'expires 3 days after creation',
    );
    assert.match(await result.innerText(), /image uploaded: image\.jpg \(15\.3 KB\)/);
  });

  it('refuses a dropped 61 s voice with the rule it breaks, before Weixin sees it', async () => {
    const uploads = fake.countRequests(UPLOAD);
    await page.selectOption('#type', 'voice');
    const dropped = await page.evaluateHandle(
      ({ name, base64 }) => {
        const dom = globalThis as unknown as BrowserGlobals;
        const transfer = new dom.DataTransfer();
        const bytes = Uint8Array.from(dom.atob(base64), (char) => char.charCodeAt(0));
        transfer.items.add(new dom.File([bytes], name, { type: 'audio/mpeg' }));
        return transfer;
      },
      { name: 'voice-61s.mp3', base64: LONG_VOICE.toString('base64') },
    );
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: dropped });
    assert.match(await page.locator('#drop-text').innerText(), /voice-61s\.mp3/);
    await page.click('#upload-button');
    const result = page.locator('#results li.result.error').first();
    await result.waitFor();
    const rule = await result.locator('.rule').innerText();
    assert.match(rule, /61\.1 s/);
    assert.match(rule, /60 s/);
    assert.match(await result.innerText(), /HTTP 400 · errcode 40005/);
    assert.equal(fake.countRequests(UPLOAD), uploads, 'the file never reached Weixin');
  });

  it('downloads the image back through the controller', async () => {
    const result = page.locator(`#results li.result.ok[data-media-id="${imageMediaId}"]`);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      result.locator('a.download').click(),
    ]);
    assert.match(download.suggestedFilename(), /\.jpg$/);
    const saved = await download.path();
    assert.ok(readFileSync(saved).equals(IMAGE), 'the downloaded bytes are the uploaded ones');
    await result.locator('.download-note').filter({ hasText: 'downloaded as' }).waitFor();

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(existsSync(SCREENSHOT));
  });

  it('asks for the token when the page is opened without it, and the controller refuses uploads', async () => {
    const stranger = await context.browser()!.newPage();
    try {
      await stranger.goto(sample.url);
      await stranger.locator('#token-panel').waitFor({ state: 'visible' });
    } finally {
      await stranger.close();
    }
    const form = (): FormData => {
      const body = new FormData();
      body.append('media', new Blob([IMAGE], { type: 'image/jpeg' }), 'image.jpg');
      return body;
    };
    const endpoint = `${sample.url}/weixin/media?type=image`;
    const anonymous = await fetch(endpoint, { method: 'POST', body: form() });
    assert.equal(anonymous.status, 401);
    const wrong = await fetch(endpoint, {
      method: 'POST',
      body: form(),
      headers: { 'x-upload-token': 'guess' },
    });
    assert.equal(wrong.status, 401);
    const bearer = await fetch(endpoint, {
      method: 'POST',
      body: form(),
      headers: { authorization: `Bearer ${sample.uploadToken}` },
    });
    assert.equal(bearer.status, 201);
  });

  it('fits a WAV with the switch on: both phases in progress, what changed, and a reused media_id', async () => {
    await page.check('#fit');
    await page.selectOption('#type', 'voice');
    assert.equal(await page.getAttribute('#file', 'accept'), '', 'any format when fitted');
    await page.evaluate(() => {
      const dom = globalThis as unknown as BrowserGlobals;
      const label = dom.document.getElementById('progress-phase');
      dom.progressSeen = [];
      new dom.MutationObserver(() => dom.progressSeen.push(label.textContent)).observe(label, {
        childList: true,
      });
    });
    const uploads = fake.countRequests(UPLOAD);
    await page.setInputFiles('#file', mediaFixture('voice-speech.wav'));
    await page.click('#upload-button');
    const result = page.locator('#results li.result.ok').first();
    await result.locator('.fitted').waitFor();
    const phases = await page.evaluate(() => (globalThis as unknown as BrowserGlobals).progressSeen);
    assert.ok(phases.includes('converting'), `the conversion was shown (${phases.join(', ')})`);
    assert.ok(phases.includes('uploading to Weixin'), `the upload was shown (${phases.join(', ')})`);
    assert.match(
      await result.locator('.fitted').innerText(),
      /^fitted: WAV → MP3, 158\.4 KB → [\d.]+ KB, [\d.]+ s → [\d.]+ s$/,
    );
    const mediaId = (await result.locator('.media-id').innerText()).trim();
    assert.equal(fake.getMedia(mediaId)?.data.subarray(0, 3).toString('latin1'), 'ID3');
    assert.equal(fake.countRequests(UPLOAD), uploads + 1);

    await page.click('#upload-button');
    await page.locator('#results li.result.ok .reused').first().waitFor();
    const again = page.locator('#results li.result.ok').first();
    assert.equal((await again.locator('.media-id').innerText()).trim(), mediaId);
    assert.match(await again.locator('.fitted').innerText(), /WAV → MP3/);
    assert.equal(fake.countRequests(UPLOAD), uploads + 1, 'reused: nothing sent to Weixin');
  });
});
