// The library's own tests, run in Chromium against a real presenced (Tests/Browser/test_library.py
// serves this page with --web-root). Each test reports into #results; #summary carries the counts.
import {
  PresenceClient, PresenceError, SUBPROTOCOL, adviceForClose, backoffDelay, memoryTokenStore,
} from './presence-client.js';

const PASSWORD = 'Library#Test42';
const run = Math.random().toString(36).slice(2, 8);
/** @type {Array<[string, () => Promise<void>]>} */
const tests = [];
const test = (name, body) => tests.push([name, body]);

function assert(condition, message) { if (!condition) throw new Error(`assertion failed: ${message}`); }
function equal(actual, expected, message) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the first event `predicate` accepts, or rejects after `ms`. */
function nextEvent(client, predicate, ms = 15000, what = 'event') {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { stop(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
    const stop = client.addListener((event) => {
      if (predicate(event)) { clearTimeout(timer); stop(); resolve(event); }
    });
  });
}

/** The real WebSocket, recording every frame the client sends. */
function recordingSocket(frames) {
  return class extends WebSocket {
    send(data) { frames.push(JSON.parse(data)); super.send(data); }
  };
}

async function signUp(name) {
  const email = `${name}-${run}@example.org`;
  const response = await fetch('/v1/accounts', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, firstName: name, lastName: 'Test' }),
  });
  assert(response.status === 201, `sign-up of ${email} answered ${response.status}`);
  return email;
}

function newClient(frames = [], options = {}) {
  return new PresenceClient({
    url: PresenceClient.sameOriginURL(), WebSocket: recordingSocket(frames), baseBackoffMs: 50, maxBackoffMs: 400, ...options,
  });
}

async function contacts(a, aEmail, b, bEmail) {
  const request = nextEvent(b, (e) => e.type === 'contactRequest', 15000, 'contactRequest');
  await a.request('requestContact', { user: bEmail });
  await request;
  const added = nextEvent(a, (e) => e.type === 'contactAdded', 15000, 'contactAdded');
  await b.request('acceptContact', { user: aEmail });
  await added;
}

// ------------------------------------------------------------------ pure parts

test('adviceForClose follows every close code of Protocol/README.md section 7', async () => {
  for (const code of [4000, 4004, 1000, 1002, 1007, 1008, 1009]) equal(adviceForClose(code).action, 'stop', `code ${code}`);
  for (const code of [4001, 4002, 4003, 4005]) equal(adviceForClose(code).action, 'signInAgain', `code ${code}`);
  for (const code of [1011, 1013, 1006]) equal(adviceForClose(code), { action: 'resume', delayMs: null }, `code ${code}`);
  equal(adviceForClose(1001, 'server shutting down; reconnect in 2345 ms'), { action: 'resume', delayMs: 2345 }, '1001 hint');
  equal(adviceForClose(1001, 'going away'), { action: 'resume', delayMs: null }, '1001 without hint');
});

test('backoff is full jitter, doubling from the base up to the cap', async () => {
  equal(backoffDelay(0, () => 0), 0, 'zero jitter');
  equal(backoffDelay(0, () => 0.999999, 1000, 60000), 999, 'first retry below 1 s');
  equal(backoffDelay(3, () => 0.5, 1000, 60000), 4000, 'fourth retry: half of 8 s');
  equal(backoffDelay(30, () => 0.999999, 1000, 60000), 59999, 'capped at 60 s');
  const seen = new Set(Array.from({ length: 50 }, () => backoffDelay(4)));
  assert(seen.size > 40, 'delays are spread out');
});

// ------------------------------------------------------------------ against the server

test('connects with the presence.v1 subprotocol; a refused sign-in rejects with the error code', async () => {
  const email = await signUp('refused');
  const client = newClient();
  let error = null;
  try { await client.signIn({ email, password: 'Wrong#Password1' }); } catch (e) { error = e; }
  assert(error instanceof PresenceError, 'rejects with PresenceError');
  equal(error.code, 'invalid_credentials', 'code');
  equal(client.state, 'signedOut', 'state');
  equal(client.hello?.protocol ?? SUBPROTOCOL, SUBPROTOCOL, 'hello protocol');
  const ok = await client.signIn({ email, password: PASSWORD });
  equal(client.socket.protocol, SUBPROTOCOL, 'negotiated subprotocol');
  equal(ok.profile.id, email, 'profile');
  assert(!client.hasDeviceToken, 'no device token without staySignedIn');
  await client.logOut();
});

test('ops return promises matched by id, even when answered out of order', async () => {
  const frames = [];
  const email = await signUp('ids');
  const client = newClient(frames);
  await client.signIn({ email, password: PASSWORD, staySignedIn: true });
  assert(client.hasDeviceToken, 'staySignedIn stores a device token');
  const results = await Promise.allSettled([
    client.request('setStatus', { status: 'busy' }),
    client.request('requestContact', { user: email }),
    client.request('activity'),
    client.request('setStatus', { status: 'nonsense' }),
  ]);
  equal(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected'], 'outcomes');
  equal(results[1].reason.code, 'cannot_target_self', 'contact error');
  equal(results[3].reason.code, 'invalid_value', 'enum error');
  equal(results[3].reason.field, 'status', 'error field');
  const ids = frames.map((f) => f.id);
  equal(new Set(ids).size, ids.length, 'every op has its own id');
  assert(!JSON.stringify(frames.slice(1)).includes(PASSWORD), 'the password is sent only in the signIn op');
  assert(!JSON.stringify(client).includes(PASSWORD), 'and not kept');
  await client.logOut();
  assert(!client.hasDeviceToken, 'log out forgets the device token');
});

test('heartbeats carry the last seq and acknowledge chats promptly', async () => {
  const framesA = [];
  const a = newClient(framesA);
  const b = newClient();
  const aEmail = await signUp('hb-a');
  const bEmail = await signUp('hb-b');
  await a.signIn({ email: aEmail, password: PASSWORD });
  await b.signIn({ email: bEmail, password: PASSWORD });
  await contacts(a, aEmail, b, bEmail);
  const chat = nextEvent(a, (e) => e.type === 'chat', 15000, 'chat');
  await b.request('send', { to: aEmail, clientMessageId: 'lib-1', body: 'hello' });
  const event = await chat;
  await sleep(600);
  const beats = framesA.filter((f) => f.op === 'heartbeat');
  assert(beats.length > 0, 'a heartbeat followed the chat');
  assert(beats.some((f) => f.lastSeq >= event.seq), `a heartbeat acknowledged seq ${event.seq}: ${JSON.stringify(beats)}`);
  equal(beats[beats.length - 1].lastSeq, a.lastSeq, 'the heartbeat carries the highest seq processed');
  await a.logOut(); await b.logOut();
});

test('after a dropped connection it resumes within the window and receives what it missed, in order', async () => {
  const framesA = [];
  const a = newClient(framesA);
  const b = newClient();
  const aEmail = await signUp('resume-a');
  const bEmail = await signUp('resume-b');
  await a.signIn({ email: aEmail, password: PASSWORD });
  await b.signIn({ email: bEmail, password: PASSWORD });
  await contacts(a, aEmail, b, bEmail);
  const session = a.session;
  const seqs = [];
  a.addListener((e) => { if (typeof e.seq === 'number') seqs.push(e.seq); });
  const states = [];
  a.addListener((e) => { if (e.type === 'state') states.push(e.state); });
  const resumed = nextEvent(a, (e) => e.type === 'resumed', 20000, 'resumed');
  const busy = nextEvent(a, (e) => e.type === 'presence' && e.user === bEmail && e.status === 'busy', 20000, 'presence busy');
  a.dropConnection();
  await b.request('setStatus', { status: 'busy' });
  await resumed;
  await busy;
  equal(a.session, session, 'same session');
  assert(states.includes('reconnecting'), `reported reconnecting: ${states}`);
  equal(states[states.length - 1], 'online', 'online again');
  assert(framesA.some((f) => f.op === 'resume'), 'sent resume');
  for (let i = 1; i < seqs.length; i += 1) equal(seqs[i], seqs[i - 1] + 1, 'no gap in seq');
  await a.logOut(); await b.logOut();
});

test('4003 after a profile change: signs in again with the device token and reports the new profile and why', async () => {
  const frames = [];
  const email = await signUp('reauth');
  const client = newClient(frames);
  await client.signIn({ email, password: PASSWORD, staySignedIn: true });
  const renewed = nextEvent(client, (e) => e.type === 'signedIn', 20000, 'signedIn again');
  await client.request('updateProfile', { firstName: 'Renamed' });
  const event = await renewed;
  equal(event.profile.firstName, 'Renamed', 'new profile');
  assert(event.renewed && /account changed/i.test(event.renewed), `says why: ${event.renewed}`);
  assert(frames.some((f) => f.op === 'signIn' && f.method === 'token'), 'signed in with the token');
  equal(client.state, 'online', 'online');
  await client.logOut();
});

test('4003 without a device token: stops and asks for the password', async () => {
  const email = await signUp('reauth-nt');
  const client = newClient();
  await client.signIn({ email, password: PASSWORD });
  const ended = nextEvent(client, (e) => e.type === 'ended', 20000, 'ended');
  await client.request('updateProfile', { lastName: 'Changed' });
  const event = await ended;
  equal(event.code, 4003, 'code');
  equal(client.state, 'signedOut', 'state');
});

test('4005 sign-in timeout: signs in with the device token when it has one, else stops', async () => {
  const email = await signUp('timeout');
  const withToken = newClient();
  await withToken.signIn({ email, password: PASSWORD, staySignedIn: true });
  // Pretend the app lost its session but kept the token, then sat on a fresh connection.
  withToken.closeSocket(1000);
  withToken.resumeToken = null;
  withToken.stopped = false;
  const again = nextEvent(withToken, (e) => e.type === 'signedIn', 15000, 'signedIn after 4005');
  await withToken.open();
  const event = await again;
  equal(event.profile.id, email, 'signed in again');
  await withToken.logOut();

  const bare = newClient();
  bare.stopped = false;
  const ended = nextEvent(bare, (e) => e.type === 'ended', 15000, 'ended after 4005');
  await bare.open();
  equal((await ended).code, 4005, 'stops with nothing to sign in with');
});

test('4004 account deleted: stops and forgets the device token', async () => {
  const email = await signUp('delete');
  const tokens = memoryTokenStore();
  const client = newClient([], { tokenStore: tokens });
  await client.signIn({ email, password: PASSWORD, staySignedIn: true });
  assert(tokens.get(), 'token held');
  const ended = nextEvent(client, (e) => e.type === 'ended', 20000, 'ended');
  await client.request('deleteAccount', { password: PASSWORD });
  equal((await ended).code, 4004, 'code');
  equal(tokens.get(), null, 'token forgotten');
  equal(client.profile, null, 'profile forgotten');
});

test('1001 with a reconnect hint and 1013: waits as told, then resumes', async () => {
  // The server sends these only when draining or when this client reads too slowly, which a
  // page cannot cause; the decision is exercised on the real client with a real session.
  const email = await signUp('drain');
  const frames = [];
  const client = newClient(frames);
  await client.signIn({ email, password: PASSWORD });
  for (const [code, reason, expectedDelay] of [[1001, 'server draining; reconnect in 300 ms', 300], [1013, '', null]]) {
    const socket = client.socket;
    client.socket = null; // detach: the close below reaches closed() through our call only
    socket.onclose = null;
    socket.close(1000);
    const scheduled = nextEvent(client, (e) => e.type === 'state' && e.state !== 'online', 2000, 'reconnecting state');
    const resumed = nextEvent(client, (e) => e.type === 'resumed', 20000, 'resumed');
    client.closed(code, reason);
    const state = await scheduled;
    if (expectedDelay !== null) equal(state.retryInMs, expectedDelay, 'used the hint');
    else assert(state.retryInMs >= 0 && state.retryInMs < 400, 'used the backoff');
    await resumed;
  }
  equal(frames.filter((f) => f.op === 'resume').length, 2, 'resumed twice');
  await client.logOut();
});

// ------------------------------------------------------------------ runner

async function main() {
  const list = document.getElementById('results');
  let passed = 0;
  let failed = 0;
  for (const [name, body] of tests) {
    const item = document.createElement('li');
    try {
      await body();
      passed += 1;
      item.dataset.result = 'pass';
      item.textContent = `PASS ${name}`;
    } catch (error) {
      failed += 1;
      item.dataset.result = 'fail';
      item.textContent = `FAIL ${name}: ${error?.message ?? error}`;
      console.error(name, error);
    }
    list.append(item);
  }
  const summary = document.getElementById('summary');
  summary.textContent = `${passed} passed, ${failed} failed`;
  summary.dataset.passed = String(passed);
  summary.dataset.failed = String(failed);
  summary.dataset.done = 'true';
}
main();
