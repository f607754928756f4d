// The sample's upload page: plain browser JavaScript, no build step. Everything shown from the server is
// set with textContent, never parsed as HTML.
'use strict';

const TOKEN_HEADER = 'x-upload-token';
const TOKEN_KEY = 'nestjs-weixin-media-sample-token';

const $ = (id) => document.getElementById(id);
const form = $('upload-form');
const typeSelect = $('type');
const fileInput = $('file');
const dropZone = $('drop-zone');
const uploadButton = $('upload-button');
const progress = $('progress');
const progressText = $('progress-text');
const progressPhase = $('progress-phase');
const fitSwitch = $('fit');
const tokenPanel = $('token-panel');
const tokenInput = $('token');

let settings; // { mediaPath, rules, extensions } from GET /rules
let chosenFile;
let uploading = false;

/** The token arrives in the link from the start log; it is kept for the tab and taken out of the address bar. */
function readToken() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url);
  }
  const token = sessionStorage.getItem(TOKEN_KEY) || '';
  tokenInput.value = token;
  tokenPanel.hidden = token !== '';
}

function currentToken() {
  return tokenInput.value.trim();
}

function formatBytes(bytes) {
  const MB = 1024 * 1024;
  if (bytes >= MB) return `${+(bytes / MB).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function renderRules() {
  const body = $('rules').querySelector('tbody');
  body.replaceChildren();
  for (const [type, rule] of Object.entries(settings.rules)) {
    const row = element('tr');
    row.dataset.type = type;
    row.append(
      element('td', type),
      element('td', formatBytes(rule.maxBytes)),
      element('td', rule.formats.map((format) => format.toUpperCase()).join(', ')),
      element('td', rule.maxDurationMs ? `${rule.maxDurationMs / 1000} s` : '—'),
    );
    body.append(row);
  }
  showTypeRule();
}

function showTypeRule() {
  const type = typeSelect.value;
  const rule = settings?.rules[type];
  for (const row of document.querySelectorAll('#rules tbody tr')) {
    row.classList.toggle('selected', row.dataset.type === type);
  }
  if (!rule) return;
  $('fit-rule').hidden = !fitSwitch.checked;
  // Fitted uploads take any format: the server converts it.
  fileInput.accept = fitSwitch.checked
    ? ''
    : rule.formats.map((format) => settings.extensions[format]).join(',');
  const parts = [
    rule.formats.map((format) => format.toUpperCase()).join('/'),
    `up to ${formatBytes(rule.maxBytes)}`,
  ];
  if (rule.maxDurationMs) parts.push(`at most ${rule.maxDurationMs / 1000} s`);
  $('type-rule').textContent = parts.join(', ');
}

function refreshButton() {
  uploadButton.disabled = uploading || !settings || !chosenFile;
}

function choose(file) {
  chosenFile = file;
  dropZone.classList.toggle('chosen', Boolean(file));
  $('drop-text').textContent = file
    ? `${file.name} (${formatBytes(file.size)})`
    : 'Drop a file here or choose one';
  // A file that is clearly audio or video picks its type; images leave image/thumb as chosen.
  const kind = file?.type.split('/')[0];
  if (kind === 'audio') typeSelect.value = 'voice';
  else if (kind === 'video') typeSelect.value = 'video';
  else if (kind === 'image' && typeSelect.value !== 'thumb') typeSelect.value = 'image';
  showTypeRule();
  refreshButton();
}

function addResult(item) {
  $('no-results').hidden = true;
  $('results').prepend(item);
}

function showSuccess(file, answer) {
  const item = element('li', undefined, 'result ok');
  item.dataset.mediaId = answer.media_id;
  const expires = new Date(answer.expires_at * 1000);
  const title = element('div', `${answer.type} uploaded: ${file.name} (${formatBytes(file.size)})`, 'title');
  const id = element('div', 'media_id ');
  id.append(element('code', answer.media_id, 'media-id'));
  const expiry = element('div', 'expires ');
  const time = element('time', expires.toLocaleString(), 'expires-at');
  time.dateTime = expires.toISOString();
  expiry.append(time, ` (local time; created ${new Date(answer.created_at * 1000).toLocaleString()})`);
  const link = element('a', 'Download it back', 'download');
  link.href = `${settings.mediaPath}/${encodeURIComponent(answer.media_id)}`;
  link.addEventListener('click', (event) => {
    event.preventDefault();
    downloadBack(link, answer.media_id, file.name);
  });
  const note = element('span', '', 'hint download-note');
  const actions = element('div');
  actions.append(link, ' ', note);
  item.append(title, id, expiry);
  if (answer.reused) {
    item.append(
      element(
        'div',
        'media_id reused: this content was uploaded before; nothing was converted or sent',
        'reused',
      ),
    );
  }
  if (answer.fitted) item.append(element('div', `fitted: ${describeFit(answer.fitted)}`, 'fitted'));
  else if (answer.fitted === null)
    item.append(element('div', 'already passed the rules: sent unchanged', 'fitted'));
  item.append(actions);
  addResult(item);
}

/** "WAV → MP3, 517.3 KB → 47.8 KB, 3.0 s → 3.0 s": format, size and playing time before and after. */
function describeFit(fitted) {
  const parts = [
    `${fitted.from.toUpperCase()} → ${fitted.to.toUpperCase()}`,
    `${formatBytes(fitted.bytesBefore)} → ${formatBytes(fitted.bytesAfter)}`,
  ];
  if (fitted.durationMsBefore !== undefined && fitted.durationMsAfter !== undefined) {
    parts.push(
      `${(fitted.durationMsBefore / 1000).toFixed(1)} s → ${(fitted.durationMsAfter / 1000).toFixed(1)} s`,
    );
  }
  return parts.join(', ');
}

function showProgress(phase, fraction, detail) {
  progress.hidden = false;
  progressPhase.textContent = phase;
  progress.value = Math.min(100, fraction * 100);
  progressText.textContent = detail ?? `${Math.round(progress.value)} %`;
}

/**
 * Fitted upload: the raw file to the sample's /fit-upload, whose answer streams one JSON line per progress
 * report (the server converting, then uploading to Weixin) and then the result.
 */
function uploadFitted(file, type) {
  const request = new XMLHttpRequest();
  request.open('POST', `fit-upload?type=${encodeURIComponent(type)}`);
  request.setRequestHeader(TOKEN_HEADER, currentToken());
  request.setRequestHeader('content-type', 'application/octet-stream');
  request.setRequestHeader('x-filename', encodeURIComponent(file.name));
  let read = 0;
  let last;
  const readLines = () => {
    const text = request.responseText;
    const end = text.lastIndexOf('\n') + 1;
    for (const line of text.slice(read, end).split('\n')) {
      if (!line) continue;
      const message = JSON.parse(line);
      if (message.progress) {
        const { phase, done, total } = message.progress;
        if (phase === 'fit') {
          const seconds =
            total > 1 || done % 1 !== 0 ? `${done.toFixed(1)} / ${total.toFixed(1)} s` : undefined;
          showProgress('converting', total ? done / total : 0, seconds);
        } else {
          showProgress('uploading to Weixin', total ? done / total : 0);
        }
      } else {
        last = message;
      }
    }
    read = end;
  };
  request.upload.addEventListener('progress', (event) => {
    if (event.lengthComputable) showProgress('sending to the server', event.loaded / event.total);
  });
  request.addEventListener('progress', readLines);
  request.addEventListener('load', () => {
    readLines();
    finishUpload();
    if (request.status === 200 && last?.result)
      showSuccess(file, { ...last.result, fitted: last.result.fitted ?? null });
    else if (last?.error) showError(file, request.status, last.error);
    else {
      let answer = {};
      try {
        answer = JSON.parse(request.responseText);
      } catch {
        // Not JSON: the status says enough.
      }
      showError(file, request.status, answer);
    }
  });
  request.addEventListener('error', () => {
    finishUpload();
    showError(file, 0, { errmsg: 'the upload did not reach the server (is the sample still running?)' });
  });
  startUpload();
  request.send(file);
}

function startUpload() {
  uploading = true;
  showProgress('sending to the server', 0);
  refreshButton();
}

function finishUpload() {
  uploading = false;
  progress.hidden = true;
  progressPhase.textContent = '';
  progressText.textContent = '';
  refreshButton();
}

function showError(file, status, answer) {
  const item = element('li', undefined, 'result error');
  const title = element('div', `Not uploaded: ${file.name} (${formatBytes(file.size)})`, 'title');
  const rule = element('div', answer.errmsg || `HTTP ${status}`, 'rule');
  const details = [status ? `HTTP ${status}` : 'no answer'];
  if (answer.errcode !== undefined) details.push(`errcode ${answer.errcode}`);
  item.append(title, rule, element('div', details.join(' · '), 'hint'));
  addResult(item);
  if (status === 401 || status === 403) {
    tokenPanel.hidden = false;
    tokenInput.focus();
  }
}

/** Uploads with XMLHttpRequest: unlike fetch, it reports upload progress. */
function upload(file, type) {
  if (fitSwitch.checked) return uploadFitted(file, type);
  const rule = settings.rules[type];
  if (file.size > rule.maxBytes) {
    // Not worth sending: the server would refuse it with the same rule.
    showError(file, 0, {
      errmsg: `${type} files can be at most ${formatBytes(rule.maxBytes)}; this one is ${formatBytes(file.size)}`,
    });
    return;
  }
  const body = new FormData();
  body.append('media', file, file.name);
  const request = new XMLHttpRequest();
  request.open('POST', `${settings.mediaPath}?type=${encodeURIComponent(type)}`);
  request.setRequestHeader(TOKEN_HEADER, currentToken());
  request.responseType = 'json';
  request.upload.addEventListener('progress', (event) => {
    if (!event.lengthComputable) return;
    progress.value = (event.loaded / event.total) * 100;
    progressText.textContent = `${Math.round(progress.value)} %`;
  });
  const finish = finishUpload;
  request.addEventListener('load', () => {
    finish();
    const answer = request.response && typeof request.response === 'object' ? request.response : {};
    if (request.status === 201 && answer.media_id) showSuccess(file, answer);
    else showError(file, request.status, answer);
  });
  request.addEventListener('error', () => {
    finish();
    showError(file, 0, { errmsg: 'the upload did not reach the server (is the sample still running?)' });
  });
  uploading = true;
  progress.value = 0;
  progress.hidden = false;
  progressText.textContent = '0 %';
  refreshButton();
  request.send(body);
}

/** Downloads through the guarded controller (a plain link cannot send the token) and saves the file. */
async function downloadBack(link, mediaId, fallbackName) {
  const note = link.parentElement.querySelector('.download-note');
  note.textContent = 'downloading…';
  try {
    const response = await fetch(link.href, { headers: { [TOKEN_HEADER]: currentToken() } });
    const contentType = response.headers.get('content-type') || '';
    if (contentType.startsWith('application/json')) {
      const answer = await response.json();
      if (response.ok && answer.video_url) {
        // Weixin serves a video by URL instead of bytes.
        const video = element('a', 'the video URL Weixin answered');
        video.href = answer.video_url;
        video.target = '_blank';
        note.replaceChildren('videos come back as a link: ', video);
        return;
      }
      note.textContent = `download failed: ${answer.errmsg || `HTTP ${response.status}`}`;
      return;
    }
    if (!response.ok) {
      note.textContent = `download failed: HTTP ${response.status}`;
      return;
    }
    const blob = await response.blob();
    const save = element('a');
    save.href = URL.createObjectURL(blob);
    save.download = filenameOf(response.headers.get('content-disposition')) || fallbackName || mediaId;
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(save.href), 60_000);
    note.textContent = `${formatBytes(blob.size)} downloaded as ${save.download}`;
  } catch (error) {
    note.textContent = `download failed: ${error.message}`;
  }
}

function filenameOf(disposition) {
  if (!disposition) return '';
  const encoded = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (encoded) return decodeURIComponent(encoded[1]);
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : '';
}

typeSelect.addEventListener('change', showTypeRule);
fitSwitch.addEventListener('change', showTypeRule);
fileInput.addEventListener('change', () => choose(fileInput.files[0]));
tokenInput.addEventListener('change', () => sessionStorage.setItem(TOKEN_KEY, currentToken()));
for (const name of ['dragenter', 'dragover']) {
  dropZone.addEventListener(name, (event) => {
    event.preventDefault();
    dropZone.classList.add('dragging');
  });
}
for (const name of ['dragleave', 'drop']) {
  dropZone.addEventListener(name, () => dropZone.classList.remove('dragging'));
}
dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  const file = event.dataTransfer?.files[0];
  if (file) choose(file);
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (chosenFile && !uploading) upload(chosenFile, typeSelect.value);
});

readToken();
fetch('rules')
  .then((response) => {
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  })
  .then((loaded) => {
    settings = loaded;
    typeSelect.disabled = false;
    renderRules();
    refreshButton();
  })
  .catch((error) => {
    $('type-rule').textContent = `Could not load the rules (${error.message}); is the sample running?`;
  });
