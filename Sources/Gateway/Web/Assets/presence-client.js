// presence-client.js: a browser client for the presence.v1 protocol (Protocol/README.md).
// A plain ES module with no dependencies, usable by any web app on the gateway's origin.
//
//   const client = new PresenceClient({ url: PresenceClient.sameOriginURL() });
//   client.addListener((event) => { ... });          // server events and client events
//   const reply = await client.signIn({ email, password, staySignedIn: true });
//   await client.request('setStatus', { status: 'busy' });
//
// What it does for the app: matches replies to ops by `id` (ops return Promises), sends
// heartbeats carrying the last `seq` (which also acknowledges chats), drops replayed
// duplicates, reconnects with jittered exponential backoff, resumes within the resume
// window or else signs in again with the device token, and follows every close code
// (section 7 of Protocol/README.md). It never keeps a password after the sign-in that used it.

export const SUBPROTOCOL = 'presence.v1';

/**
 * @typedef {{id: string, firstName: string, lastName: string, offlineEmail: boolean,
 *            googleLinked: boolean, hasPassword: boolean}} Profile
 * @typedef {'connecting'|'online'|'reconnecting'|'offline'|'signedOut'} ConnectionState
 * @typedef {{type: 'state', state: ConnectionState, code?: number, message?: string, retryInMs?: number}} StateEvent
 * @typedef {{type: 'signedIn', profile: Profile, session: string, renewed: string|null}} SignedInEvent
 * @typedef {{type: 'ended', code: number, reason: string, message: string}} EndedEvent
 * @typedef {{type: 'resumed', session: string}} ResumedEvent
 * @typedef {{seq: number, type: string, [member: string]: any}} ServerEvent
 * @typedef {StateEvent|SignedInEvent|EndedEvent|ResumedEvent|ServerEvent} ClientEvent
 * @typedef {{get(): string|null, set(token: string): void, clear(): void}} TokenStore
 * @typedef {{action: 'resume'|'signInAgain'|'stop', delayMs: number|null}} CloseAdvice
 */

/** An error reply, as a rejected op's reason. */
export class PresenceError extends Error {
  /** @param {{code: string, message: string, field?: string, retryAfter?: number}} reply */
  constructor(reply) {
    super(reply.message);
    this.name = 'PresenceError';
    /** @type {string} */ this.code = reply.code;
    /** @type {string|undefined} */ this.field = reply.field;
    /** @type {number|undefined} */ this.retryAfter = reply.retryAfter;
  }
}

/** A token store that keeps the device token in memory only (the default). */
export function memoryTokenStore() {
  /** @type {string|null} */ let token = null;
  return { get: () => token, set: (t) => { token = t; }, clear: () => { token = null; } };
}

/**
 * A token store in `localStorage` under `key`: use it only when the person asked to stay
 * signed in.
 * @param {Storage} storage @param {string} key @returns {TokenStore}
 */
export function storageTokenStore(storage, key = 'presence.deviceToken') {
  return {
    get: () => storage.getItem(key),
    set: (t) => storage.setItem(key, t),
    clear: () => storage.removeItem(key),
  };
}

/**
 * What to do after the connection closed with `code` (Protocol/README.md section 7).
 * `delayMs` is the server's hint (1001 "reconnect in N ms"), else null (use backoff).
 * @param {number} code @param {string} reason @returns {CloseAdvice}
 */
export function adviceForClose(code, reason = '') {
  switch (code) {
    case 4000: case 4004: case 1000: case 1002: case 1007: case 1008: case 1009:
      return { action: 'stop', delayMs: null };
    case 4001: case 4002: case 4003: case 4005:
      return { action: 'signInAgain', delayMs: null };
    case 1001: {
      const hint = /reconnect in (\d+) ms/.exec(reason);
      return { action: 'resume', delayMs: hint ? Number(hint[1]) : null };
    }
    default: // 1011, 1013, 1006 (dropped) and anything unknown: come back and resume.
      return { action: 'resume', delayMs: null };
  }
}

/**
 * Exponential backoff with full jitter: a random delay in [0, min(max, base * 2^attempt)].
 * @param {number} attempt 0 for the first retry @param {() => number} random
 */
export function backoffDelay(attempt, random = Math.random, baseMs = 1000, maxMs = 60000) {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.floor(random() * cap);
}

export class PresenceClient {
  /**
   * @param {object} options
   * @param {string} options.url the `/ws` URL, e.g. `PresenceClient.sameOriginURL()`
   * @param {'desktop'|'mobile'|'web'} [options.device]
   * @param {TokenStore} [options.tokenStore] where the device token lives (default: memory)
   * @param {typeof WebSocket} [options.WebSocket] a WebSocket class (tests wrap the real one)
   * @param {() => number} [options.random] for the backoff jitter
   * @param {number} [options.baseBackoffMs] @param {number} [options.maxBackoffMs]
   */
  constructor(options) {
    this.url = options.url;
    this.device = options.device ?? 'web';
    this.tokenStore = options.tokenStore ?? memoryTokenStore();
    this.WebSocket = options.WebSocket ?? WebSocket;
    this.random = options.random ?? Math.random;
    this.baseBackoffMs = options.baseBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60000;
    /** @type {Set<(event: ClientEvent) => void>} */ this.listeners = new Set();
    /** @type {Map<string, {resolve: Function, reject: Function}>} */ this.pending = new Map();
    this.nextId = 1;
    /** @type {WebSocket|null} */ this.socket = null;
    /** @type {any} */ this.hello = null;
    /** @type {Profile|null} */ this.profile = null;
    /** @type {string|null} */ this.session = null;
    /** @type {string|null} */ this.resumeToken = null;
    this.lastSeq = 0;
    this.attempt = 0;
    /** @type {ConnectionState} */ this.state = 'signedOut';
    /** Why the server last closed us (the `closing` notice), reported with the next sign-in. */
    /** @type {string|null} */ this.closingMessage = null;
    this.stopped = true;
    /** @type {any} */ this.heartbeatTimer = null;
    /** @type {any} */ this.ackTimer = null;
    /** @type {any} */ this.reconnectTimer = null;
    /** @type {Promise<void>|null} */ this.opening = null;
  }

  /** `ws://host/ws` or `wss://host/ws` for the page's own origin. */
  static sameOriginURL(location = globalThis.location) {
    return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
  }

  /** @param {(event: ClientEvent) => void} listener @returns {() => void} removes it */
  addListener(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @param {ClientEvent} event */
  emit(event) {
    for (const listener of [...this.listeners]) {
      try { listener(event); } catch (error) { console.error('presence listener failed', error); }
    }
  }

  /** @param {ConnectionState} state @param {object} [details] */
  setState(state, details = {}) {
    this.state = state;
    this.emit({ type: 'state', state, ...details });
  }

  /** True when a device token is held (the person asked to stay signed in). */
  get hasDeviceToken() { return !!this.tokenStore.get(); }

  /**
   * Signs in with a password. The password is sent once and not kept.
   * @param {{email: string, password: string, staySignedIn?: boolean}} credentials
   * @returns {Promise<any>} the sign-in reply
   */
  async signIn({ email, password, staySignedIn = false }) {
    return this.startSession({ method: 'password', email, password, device: this.device, staySignedIn });
  }

  /** Signs in with the stored device token. */
  async signInWithToken() {
    const deviceToken = this.tokenStore.get();
    if (!deviceToken) throw new PresenceError({ code: 'invalid_device_token', message: 'No device token is stored.' });
    return this.startSession({ method: 'token', deviceToken, device: this.device });
  }

  /** Signs in with a Google ID token. @param {string} idToken @param {boolean} staySignedIn */
  async signInWithGoogle(idToken, staySignedIn = false) {
    return this.startSession({ method: 'google', idToken, device: this.device, staySignedIn });
  }

  /** @param {object} fields */
  async startSession(fields) {
    this.stopped = false;
    clearTimeout(this.reconnectTimer);
    try {
      await this.open();
      return await this.signInOnOpenSocket(fields);
    } catch (error) {
      // A refused sign-in (or no server) leaves nothing to reconnect with.
      this.stopped = true;
      clearTimeout(this.reconnectTimer);
      this.closeSocket(1000);
      this.setState('signedOut', { code: 0, message: error.message });
      throw error;
    }
  }

  /** @param {object} fields */
  async signInOnOpenSocket(fields) {
    const reply = await this.request('signIn', fields);
    if (reply.deviceToken) this.tokenStore.set(reply.deviceToken);
    this.profile = reply.profile ?? null;
    this.session = reply.session;
    this.resumeToken = reply.resumeToken;
    this.lastSeq = 0; // a new session: the snapshot is seq 1
    this.attempt = 0;
    const renewed = this.closingMessage;
    this.closingMessage = null;
    this.setState('online');
    this.emit({ type: 'signedIn', profile: reply.profile, session: reply.session, renewed });
    return reply;
  }

  /**
   * Sends an op; resolves with the `ok` reply, rejects with a PresenceError.
   * @param {string} op @param {object} [fields] @returns {Promise<any>}
   */
  request(op, fields = {}) {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1) {
      return Promise.reject(new PresenceError({ code: 'not_connected', message: 'Not connected; try again in a moment.' }));
    }
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ op, id, ...fields }));
    });
  }

  /** Logs out: ends the session, revokes the device token, forgets everything. */
  async logOut() {
    this.stopped = true;
    try { if (this.state === 'online') await this.request('logOut'); } catch { /* closing anyway */ }
    this.forget();
    this.closeSocket(1000);
    this.setState('signedOut', { code: 4000, message: 'You logged out.' });
  }

  /** Drops every credential and session detail. */
  forget() {
    this.tokenStore.clear();
    this.profile = null;
    this.session = null;
    this.resumeToken = null;
    this.lastSeq = 0;
    this.closingMessage = null;
  }

  /** Opens the socket and waits for `hello`. */
  open() {
    if (this.socket && this.socket.readyState === 1 && this.hello) return Promise.resolve();
    if (this.opening) return this.opening;
    this.setState(this.attempt > 0 ? 'reconnecting' : 'connecting');
    this.opening = new Promise((resolve, reject) => {
      const socket = new this.WebSocket(this.url, SUBPROTOCOL);
      this.socket = socket;
      this.hello = null;
      let settled = false;
      socket.onmessage = (message) => {
        let value;
        try { value = JSON.parse(message.data); } catch { return; }
        if (!settled && value.type === 'hello') {
          settled = true;
          this.hello = value;
          this.startHeartbeats(value.heartbeatSeconds);
          resolve();
          return;
        }
        this.receive(value);
      };
      socket.onclose = (close) => {
        if (this.socket !== socket) return;
        if (!settled) {
          settled = true;
          reject(new PresenceError({ code: 'not_connected', message: 'Could not reach the server.' }));
        }
        this.closed(close.code, close.reason);
      };
    }).finally(() => { this.opening = null; });
    return this.opening;
  }

  /** @param {any} message */
  receive(message) {
    if (typeof message.seq === 'number') {
      if (message.seq <= this.lastSeq) return; // replayed twice: already processed
      this.lastSeq = message.seq;
      this.emit(message);
      // Chats count as delivered once acknowledged: acknowledge soon, not at the next beat.
      if (message.type === 'chat') this.scheduleAck();
      return;
    }
    if (message.type === 'ok' || message.type === 'error') {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.type === 'ok') waiter.resolve(message); else waiter.reject(new PresenceError(message));
      return;
    }
    if (message.type === 'closing') {
      this.closingMessage = message.message;
      this.emit(message);
    }
  }

  scheduleAck() {
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => { this.ackTimer = null; this.heartbeat(); }, 250);
  }

  /** Sends a heartbeat with the highest `seq` processed (also the acknowledgement). */
  heartbeat() {
    if (this.state !== 'online') return;
    this.request('heartbeat', { lastSeq: this.lastSeq }).catch(() => {});
  }

  /** @param {number} seconds */
  startHeartbeats(seconds) {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), Math.max(1, seconds) * 1000);
  }

  /** @param {number} code */
  closeSocket(code) {
    const socket = this.socket;
    this.socket = null;
    this.hello = null;
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.failPending();
    if (socket && socket.readyState <= 1) socket.close(code);
  }

  failPending() {
    for (const waiter of this.pending.values()) {
      waiter.reject(new PresenceError({ code: 'not_connected', message: 'The connection closed before the answer came.' }));
    }
    this.pending.clear();
  }

  /** The socket closed: decide, from the code, whether and how to come back. */
  closed(code, reason) {
    this.socket = null;
    this.hello = null;
    clearInterval(this.heartbeatTimer);
    this.failPending();
    if (this.stopped) return;
    const advice = adviceForClose(code, reason);
    if (advice.action === 'stop') {
      this.stopped = true;
      const message = this.closingMessage ?? `The connection closed (${code}).`;
      if (code === 4004 || code === 4000) this.forget();
      this.setState('signedOut', { code, message });
      this.emit({ type: 'ended', code, reason, message });
      return;
    }
    if (advice.action === 'signInAgain') {
      // The session is over; only the device token can start a new one.
      this.resumeToken = null;
      if (!this.hasDeviceToken) {
        this.stopped = true;
        const message = this.closingMessage ?? 'Sign in again.';
        this.setState('signedOut', { code, message });
        this.emit({ type: 'ended', code, reason, message });
        return;
      }
    }
    const delayMs = advice.delayMs ?? (advice.action === 'signInAgain' && this.attempt === 0
      ? Math.floor(this.random() * 250) : backoffDelay(this.attempt, this.random, this.baseBackoffMs, this.maxBackoffMs));
    this.attempt += 1;
    const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
    this.setState(offline || this.attempt > 2 ? 'offline' : 'reconnecting', { code, retryInMs: delayMs, message: this.closingMessage ?? undefined });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.reconnect(), delayMs);
  }

  /** Opens a new connection, then resumes, or signs in with the device token. */
  async reconnect() {
    if (this.stopped) return;
    try {
      await this.open();
    } catch {
      return; // closed() already scheduled the next attempt
    }
    if (this.resumeToken) {
      try {
        const reply = await this.request('resume', { resumeToken: this.resumeToken, lastSeq: this.lastSeq });
        this.session = reply.session;
        this.attempt = 0;
        this.setState('online');
        this.emit({ type: 'resumed', session: reply.session });
        return;
      } catch (error) {
        if (!(error instanceof PresenceError) || error.code === 'not_connected') return;
        this.resumeToken = null; // unknown_session, resume_impossible, sequence_ahead: sign in afresh
      }
    }
    const deviceToken = this.tokenStore.get();
    if (!deviceToken) {
      this.stopped = true;
      this.closeSocket(1000);
      this.setState('signedOut', { code: 4001, message: 'Your session ended. Sign in again.' });
      this.emit({ type: 'ended', code: 4001, reason: 'session_expired', message: 'Your session ended. Sign in again.' });
      return;
    }
    try {
      await this.signInOnOpenSocket({ method: 'token', deviceToken, device: this.device });
    } catch (error) {
      if (error instanceof PresenceError && error.code === 'not_connected') return;
      if (error instanceof PresenceError && error.code === 'rate_limited') {
        this.closeSocket(1000);
        this.closed(1013, ''); // come back later
        return;
      }
      // The token was revoked (a password change or reset): the person must type the password.
      this.stopped = true;
      this.tokenStore.clear();
      this.closeSocket(1000);
      const message = 'Please sign in again with your password.';
      this.setState('signedOut', { code: 4003, message });
      this.emit({ type: 'ended', code: 4003, reason: 'reauthenticate', message });
    }
  }

  /** For tests and "try now" buttons: reconnect at once if waiting. */
  reconnectNow() {
    if (this.stopped || this.socket) return;
    clearTimeout(this.reconnectTimer);
    this.reconnect();
  }

  /** Drops the connection as a network failure would (tests, and going offline). */
  dropConnection() {
    const socket = this.socket;
    if (socket) socket.close(3000, 'dropped by the client');
  }
}
