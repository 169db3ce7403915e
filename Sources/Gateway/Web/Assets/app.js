// The reference web client: the messenger's screens over presence-client.js.
// Views are sections of index.html switched by the URL's fragment (#signin, #create,
// #forgot, #messenger, #account); nothing is rendered from HTML strings, only with
// textContent, so nothing a contact sends can inject markup.
import { PresenceClient, PresenceError, memoryTokenStore, storageTokenStore } from './presence-client.js';

const TOKEN_KEY = 'presence.deviceToken';
const STATUS_WORDS = { offline: 'Offline', idle: 'Idle', mobile: 'Mobile', online: 'Online', busy: 'Busy' };

/** @param {string} id @returns {any} */
const $ = (id) => document.getElementById(id);

/** Everything the page knows; all of it is dropped on Log out. */
const state = {
  /** @type {import('./presence-client.js').Profile|null} */ profile: null,
  chosenStatus: 'online',
  /** @type {Map<string, {status: string, lastSeen?: number, unread: number}>} */ contacts: new Map(),
  /** @type {Set<string>} */ incoming: new Set(),
  /** @type {Set<string>} */ outgoing: new Set(),
  /** @type {string|null} */ openChat: null,
  /** @type {Map<string, Array<any>>} messages per contact, oldest first */ messages: new Map(),
  /** @type {Map<string, boolean>} */ hasMore: new Map(),
  /** @type {{call: number, peer: string, role: 'caller'|'callee', answered: boolean}|null} */ call: null,
  live: false,
  nextClientMessage: 1,
  /** @type {{google: {clientId: string}|null}} */ config: { google: null },
};

const staySignedIn = () => localStorage.getItem(TOKEN_KEY) !== null;
const client = new PresenceClient({
  url: PresenceClient.sameOriginURL(),
  // Only a person who ticked "Stay signed in" has the token in localStorage.
  tokenStore: staySignedIn() ? storageTokenStore(localStorage, TOKEN_KEY) : memoryTokenStore(),
});

// ---------------------------------------------------------------- views

const VIEWS = ['signin', 'create', 'forgot', 'messenger', 'account'];

function route() {
  const wanted = location.hash.replace(/^#\/?/, '') || 'signin';
  const signedIn = state.profile !== null;
  let view = VIEWS.includes(wanted) ? wanted : 'signin';
  if (signedIn && ['signin', 'create', 'forgot'].includes(view)) view = 'messenger';
  if (!signedIn && ['messenger', 'account'].includes(view)) view = 'signin';
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  $('me').hidden = !signedIn;
  if (view === 'account') renderAccount();
  const heading = document.querySelector(`#view-${view} h1, #view-${view} h2`);
  if (heading && document.activeElement === document.body) heading.setAttribute('tabindex', '-1');
  return view;
}

/** @param {string} view */
function go(view) {
  if (location.hash !== `#${view}`) location.hash = view; else route();
}

/** @param {string} text @param {'info'|'error'} [kind] */
function notify(text, kind = 'info') {
  const notice = $('notice');
  notice.textContent = text;
  notice.className = `notice ${kind}`;
  notice.hidden = !text;
}

/** @param {HTMLElement} element @param {string} text */
function showError(element, text) {
  element.textContent = text;
  element.hidden = !text;
}

// ---------------------------------------------------------------- sign in, sign up, reset

async function loadConfig() {
  try {
    const response = await fetch('/v1/client-config', { headers: { Accept: 'application/json' } });
    if (response.ok) state.config = await response.json();
  } catch { /* no Google then */ }
  $('google-area').hidden = !state.config.google;
}

$('signin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = $('signin-email').value.trim();
  const password = $('signin-password').value;
  const stay = $('signin-stay').checked;
  if (!email || !password) { showError($('signin-error'), 'Enter your email and password.'); return; }
  showError($('signin-error'), '');
  client.tokenStore = stay ? storageTokenStore(localStorage, TOKEN_KEY) : memoryTokenStore();
  try {
    // Always a device token: without "stay signed in" it lives in this tab's memory only
    // (closing the tab still signs out), and lets the tab sign in again by itself when a
    // cluster's change closes the session with 1012 (Protocol/README.md, section 7).
    await client.signIn({ email, password, staySignedIn: true });
    $('signin-password').value = '';
  } catch (error) {
    showError($('signin-error'), signInErrorText(error));
  }
});

/** @param {any} error */
function signInErrorText(error) {
  if (!(error instanceof PresenceError)) return 'Could not sign in.';
  if (error.code === 'rate_limited') return `Too many attempts. Try again in ${error.retryAfter ?? 60} seconds.`;
  if (error.code === 'not_connected') return 'The server cannot be reached. Check your connection and try again.';
  return error.message;
}

$('create-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = {
    firstName: $('create-first').value.trim(),
    lastName: $('create-last').value.trim(),
    email: $('create-email').value.trim(),
    password: $('create-password').value,
  };
  showError($('create-error'), '');
  try {
    const response = await fetch('/v1/accounts', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) { showError($('create-error'), answer.message ?? 'Could not create the account.'); return; }
    $('create-form').reset();
    $('signin-email').value = answer.profile.id;
    go('signin');
    notify(`Account created for ${answer.profile.id}. Log in with your password.`);
    $('signin-password').focus();
  } catch {
    showError($('create-error'), 'The server cannot be reached. Try again.');
  }
});

$('forgot-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = $('forgot-email').value.trim();
  const result = $('forgot-result');
  if (!email) { showError(result, 'Enter the email address of your account.'); return; }
  try {
    const response = await fetch('/v1/password-reset', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }),
    });
    const answer = await response.json();
    showError(result, response.ok
      ? 'If an account uses this address, we sent it a link to reset the password. The link is active for 24 hours; check your Spam folder too.'
      : (answer.message ?? 'Could not send the link.'));
  } catch {
    showError(result, 'The server cannot be reached. Try again.');
  }
});

// Sign in with Google without Google's script: a top-level redirect to Google's OAuth
// endpoint, which comes back to this page with an ID token in the fragment.
$('google-button').addEventListener('click', () => {
  if (!state.config.google) return;
  const nonce = crypto.randomUUID();
  sessionStorage.setItem('presence.googleNonce', nonce);
  sessionStorage.setItem('presence.googleStay', $('signin-stay').checked ? '1' : '');
  const query = new URLSearchParams({
    client_id: state.config.google.clientId, response_type: 'id_token', scope: 'openid email profile',
    redirect_uri: `${location.origin}/`, nonce, prompt: 'select_account',
  });
  location.assign(`https://accounts.google.com/o/oauth2/v2/auth?${query}`);
});

/** The `nonce` claim of a JWT, unverified. @param {string} jwt */
function tokenNonce(jwt) {
  try {
    const payload = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '='))).nonce ?? null;
  } catch { return null; }
}

async function finishGoogleRedirect() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const idToken = fragment.get('id_token');
  if (!idToken) return false;
  history.replaceState(null, '', '/#signin');
  const stay = sessionStorage.getItem('presence.googleStay') === '1';
  const nonce = sessionStorage.getItem('presence.googleNonce');
  sessionStorage.removeItem('presence.googleNonce');
  // Only a token this page asked for: its nonce must be the one sent (the server checks the signature).
  if (!nonce || tokenNonce(idToken) !== nonce) {
    showError($('signin-error'), 'Google sign-in did not complete. Try again.');
    return true;
  }
  sessionStorage.removeItem('presence.googleStay');
  client.tokenStore = stay ? storageTokenStore(localStorage, TOKEN_KEY) : memoryTokenStore();
  try { await client.signInWithGoogle(idToken, true); } catch (error) { showError($('signin-error'), signInErrorText(error)); }
  return true;
}

// ---------------------------------------------------------------- client events

client.addListener((/** @type {any} server events are switched on by type */ event) => {
  switch (event.type) {
    case 'state': return showConnection(event);
    case 'signedIn': return signedIn(event);
    case 'resumed': state.live = true; renderContacts(); return;
    case 'ended': return ended(event);
    case 'snapshot': return snapshot(event);
    case 'ownStatus': state.chosenStatus = event.status; return renderMe();
    case 'presence': return presence(event.user, event);
    case 'contactRequest': state.incoming.add(event.from); return renderContacts();
    case 'contactRequestSent': state.outgoing.add(event.to); return renderContacts();
    case 'contactAdded':
      state.incoming.delete(event.user); state.outgoing.delete(event.user);
      showError($('add-result'), '');
      return presence(event.user, event);
    case 'contactRemoved':
      state.contacts.delete(event.user); state.incoming.delete(event.user); state.outgoing.delete(event.user);
      if (state.openChat === event.user) closeChat();
      return renderContacts();
    case 'chat': return chat(event);
    case 'chatAccepted': return delivery(event.clientMessageId, event.receipt, event.messageId);
    case 'chatFailed': return delivery(event.clientMessageId, 'failed');
    case 'callIncoming': return callIncoming(event);
    case 'callRinging': return callText('Ringing…');
    case 'callAccepted': if (state.call) state.call.answered = true; return renderCall('Connected');
    case 'callAnsweredElsewhere': return callEnded(event.call, 'answeredElsewhere');
    case 'callEnded': return callEnded(event.call, event.reason);
    default: return undefined;
  }
});

/** @param {import('./presence-client.js').StateEvent} event */
function showConnection(event) {
  const line = $('connection');
  state.live = event.state === 'online';
  if (event.state === 'reconnecting' || event.state === 'offline') {
    const seconds = Math.ceil((event.retryInMs ?? 0) / 1000);
    const why = event.code === 4003 ? 'Your account changed; signing you in again' : event.state === 'offline' ? 'Offline' : 'Reconnecting';
    line.textContent = seconds > 0 ? `${why}… (next try in ${seconds} s)` : `${why}…`;
    line.dataset.state = event.state;
    line.hidden = false;
  } else if (event.state === 'connecting') {
    line.textContent = 'Connecting…'; line.dataset.state = 'connecting'; line.hidden = false;
  } else {
    line.hidden = true; line.dataset.state = event.state;
  }
  if (state.profile) renderContacts(); // marks presence as stale, or live again
}

/** @param {import('./presence-client.js').SignedInEvent} event */
function signedIn(event) {
  const first = state.profile === null;
  state.profile = event.profile;
  state.live = true;
  notify(event.renewed ? `Connection renewed. The server said: “${event.renewed}” You are signed in again with your updated profile.` : '');
  renderMe();
  if (first) go('messenger'); else route();
  renderAccount();
}

/** @param {import('./presence-client.js').EndedEvent} event */
function ended(event) {
  const profile = state.profile;
  resetState();
  if (event.code === 4004) notify('Your account was deleted.');
  else if (event.code === 4000) notify('You are logged out.');
  else notify(event.message, 'error');
  if (profile && event.code !== 4004) $('signin-email').value = profile.id;
  go('signin');
}

function resetState() {
  state.profile = null;
  state.contacts.clear(); state.incoming.clear(); state.outgoing.clear(); state.messages.clear(); state.hasMore.clear();
  state.openChat = null; state.call = null; state.live = false;
  $('log').replaceChildren(); $('send-form').hidden = true; $('chat-actions').hidden = true; $('call-bar').hidden = true;
  $('chat-title').textContent = 'Pick a contact to chat';
  renderContacts();
}

/** @param {any} event */
function snapshot(event) {
  state.chosenStatus = event.status;
  const unread = new Map([...state.contacts].map(([user, c]) => [user, c.unread]));
  state.contacts.clear();
  for (const c of event.contacts) state.contacts.set(c.user, { status: c.status, lastSeen: c.lastSeen, unread: unread.get(c.user) ?? 0 });
  state.incoming = new Set(event.incoming);
  state.outgoing = new Set(event.outgoing);
  renderMe();
  renderContacts();
  if (state.openChat && state.contacts.has(state.openChat)) loadHistory(state.openChat, true);
}

/** @param {string} user @param {{status: string, lastSeen?: number}} view */
function presence(user, view) {
  const known = state.contacts.get(user);
  state.contacts.set(user, { status: view.status, lastSeen: view.lastSeen, unread: known?.unread ?? 0 });
  renderContacts();
}

// ---------------------------------------------------------------- top bar

function initialsOf(profile) {
  const letters = [profile.firstName, profile.lastName].map((n) => (n ?? '').trim().charAt(0).toUpperCase()).join('');
  return letters || profile.id.charAt(0).toUpperCase();
}

function renderMe() {
  if (!state.profile) return;
  const button = $('initials');
  button.textContent = initialsOf(state.profile);
  button.title = `${state.profile.firstName} ${state.profile.lastName}`.trim() + ` (${state.profile.id}): ${labelOfChosen(state.chosenStatus)}`;
  button.dataset.status = state.chosenStatus === 'hidden' ? 'offline' : state.chosenStatus;
  for (const item of $('status-menu').querySelectorAll('[role=menuitemradio]')) {
    item.setAttribute('aria-checked', String(item.dataset.status === state.chosenStatus));
  }
  $('system-state').textContent = state.call ? 'Busy (in a call)' : 'none now';
}

/** @param {string} status */
const labelOfChosen = (status) => ({ online: 'Online', busy: 'Busy', hidden: 'Hidden' })[status] ?? status;

function menuItems() { return [...$('status-menu').querySelectorAll('[role^=menuitem]')]; }

function openMenu(focusIndex = 0) {
  $('status-menu').hidden = false;
  $('initials').setAttribute('aria-expanded', 'true');
  menuItems()[focusIndex]?.focus();
}

function closeMenu(returnFocus = true) {
  $('status-menu').hidden = true;
  $('initials').setAttribute('aria-expanded', 'false');
  if (returnFocus) $('initials').focus();
}

$('initials').addEventListener('click', () => { if ($('status-menu').hidden) openMenu(); else closeMenu(); });
$('initials').addEventListener('keydown', (event) => {
  if (event.key === 'ArrowDown') { event.preventDefault(); openMenu(0); }
  if (event.key === 'ArrowUp') { event.preventDefault(); openMenu(menuItems().length - 1); }
});
$('status-menu').addEventListener('keydown', (event) => {
  const items = menuItems();
  const index = items.indexOf(/** @type {any} */ (document.activeElement));
  if (event.key === 'Escape') { event.preventDefault(); closeMenu(); }
  if (event.key === 'ArrowDown') { event.preventDefault(); items[(index + 1) % items.length].focus(); }
  if (event.key === 'ArrowUp') { event.preventDefault(); items[(index - 1 + items.length) % items.length].focus(); }
  if (event.key === 'Home') { event.preventDefault(); items[0].focus(); }
  if (event.key === 'End') { event.preventDefault(); items[items.length - 1].focus(); }
  if (event.key === 'Tab') closeMenu(false);
});
document.addEventListener('click', (event) => {
  if (!$('status-menu').hidden && !$('me').contains(/** @type {Node} */ (event.target))) closeMenu(false);
});
$('status-menu').addEventListener('click', async (event) => {
  const item = /** @type {HTMLElement} */ (event.target).closest('button');
  if (!item) return;
  closeMenu();
  if (item.dataset.status) {
    try { await client.request('setStatus', { status: item.dataset.status }); } catch (error) { notify(error.message, 'error'); }
  } else if (item.dataset.action === 'account') {
    go('account');
  } else if (item.dataset.action === 'logout') {
    await client.logOut();
    localStorage.removeItem(TOKEN_KEY);
    sessionStorage.clear();
    client.tokenStore = memoryTokenStore();
    ended({ type: 'ended', code: 4000, reason: 'signed_out', message: 'You are logged out.' });
  }
});

// ---------------------------------------------------------------- contacts

/** @param {string} status @param {number|undefined} lastSeen */
function statusText(status, lastSeen) {
  const word = STATUS_WORDS[status] ?? status;
  if (status === 'offline' && lastSeen) return `${word}, last seen ${new Date(lastSeen).toLocaleString()}`;
  return word;
}

function renderContacts() {
  const list = $('contacts');
  const rows = [];
  for (const [user, contact] of [...state.contacts].sort(([a], [b]) => a.localeCompare(b))) {
    const row = document.createElement('li');
    row.className = 'contact';
    row.dataset.user = user;
    row.dataset.status = contact.status;
    // Never show stale presence as live: while disconnected the last known status is dimmed and says so.
    row.dataset.stale = String(!state.live);
    if (state.openChat === user) row.classList.add('open');
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'open-chat';
    open.setAttribute('aria-current', String(state.openChat === user));
    const dot = document.createElement('span');
    dot.className = `dot dot-${contact.status}`;
    dot.setAttribute('aria-hidden', 'true');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = user;
    const status = document.createElement('span');
    status.className = 'status';
    status.textContent = statusText(contact.status, contact.lastSeen) + (state.live ? '' : ' (last known)');
    open.append(dot, name, status);
    if (contact.unread > 0) {
      const badge = document.createElement('span');
      badge.className = 'unread';
      badge.textContent = `${contact.unread} unread`;
      open.append(badge);
    }
    open.addEventListener('click', () => openChat(user));
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove ${user}`);
    remove.addEventListener('click', () => act('removeContact', user));
    row.append(open, remove);
    rows.push(row);
  }
  const focusedUser = /** @type {HTMLElement|null} */ (document.activeElement)?.closest?.('.contact')?.getAttribute('data-user');
  const focusedClass = document.activeElement?.className;
  list.replaceChildren(...rows);
  if (focusedUser) list.querySelector(`[data-user="${CSS.escape(focusedUser)}"] .${focusedClass}`)?.focus();
  $('no-contacts').hidden = state.contacts.size > 0;

  $('incoming-area').hidden = state.incoming.size === 0;
  $('incoming').replaceChildren(...[...state.incoming].map((user) => {
    const row = document.createElement('li');
    row.className = 'request';
    row.dataset.user = user;
    const name = document.createElement('span');
    name.textContent = `${user} wants to be your contact`;
    const accept = document.createElement('button');
    accept.type = 'button'; accept.textContent = 'Accept'; accept.className = 'primary';
    accept.addEventListener('click', () => act('acceptContact', user));
    const decline = document.createElement('button');
    decline.type = 'button'; decline.textContent = 'Decline';
    decline.addEventListener('click', () => act('declineContact', user));
    row.append(name, accept, decline);
    return row;
  }));
  $('outgoing-area').hidden = state.outgoing.size === 0;
  $('outgoing').replaceChildren(...[...state.outgoing].map((user) => {
    const row = document.createElement('li');
    row.dataset.user = user;
    const name = document.createElement('span');
    name.textContent = user;
    const withdraw = document.createElement('button');
    withdraw.type = 'button'; withdraw.textContent = 'Withdraw';
    withdraw.setAttribute('aria-label', `Withdraw the request to ${user}`);
    withdraw.addEventListener('click', () => act('removeContact', user));
    row.append(name, withdraw);
    return row;
  }));
}

/** @param {string} op @param {string} user */
async function act(op, user) {
  try { await client.request(op, { user }); } catch (error) { notify(error.message, 'error'); }
}

$('add-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const user = $('add-email').value.trim().toLowerCase();
  if (!user) { showError($('add-result'), 'Enter an email address.'); return; }
  try {
    await client.request('requestContact', { user });
    $('add-email').value = '';
    showError($('add-result'), `Request sent to ${user}.`);
  } catch (error) {
    showError($('add-result'), error.message);
  }
});

// ---------------------------------------------------------------- chat

/** @param {string} user */
function openChat(user) {
  state.openChat = user;
  const contact = state.contacts.get(user);
  if (contact) contact.unread = 0;
  $('chat-title').textContent = `Chat with ${user}`;
  $('chat-actions').hidden = false;
  $('send-form').hidden = false;
  renderContacts();
  renderLog();
  loadHistory(user, true);
  renderCall();
  $('message').focus();
}

function closeChat() {
  state.openChat = null;
  $('chat-title').textContent = 'Pick a contact to chat';
  $('chat-actions').hidden = true; $('send-form').hidden = true; $('older').hidden = true;
  $('log').replaceChildren();
}

/** @param {string} user @param {boolean} fresh */
async function loadHistory(user, fresh) {
  const known = state.messages.get(user) ?? [];
  const oldest = fresh ? undefined : known.find((m) => m.messageId)?.messageId;
  try {
    const reply = await client.request('history', { with: user, limit: 30, ...(oldest ? { before: oldest } : {}) });
    const byId = new Map(known.filter((m) => m.messageId).map((m) => [m.messageId, m]));
    for (const m of reply.messages) if (!byId.has(m.messageId)) byId.set(m.messageId, { ...m, receipt: 'sent' });
    const pendingOnes = known.filter((m) => !m.messageId);
    state.messages.set(user, [...byId.values()].sort((a, b) => a.messageId - b.messageId).concat(pendingOnes));
    if (fresh ? !state.hasMore.has(user) : true) state.hasMore.set(user, reply.hasMore);
    if (state.openChat === user) renderLog();
  } catch (error) {
    if (state.openChat === user) notify(error.message, 'error');
  }
}

$('older').addEventListener('click', () => { if (state.openChat) loadHistory(state.openChat, false); });

const RECEIPTS = { sending: 'Sending…', delivered: 'Delivered', stored: 'Sent; delivered when they sign in', sent: 'Sent', failed: 'Not sent. Send it again.' };

function renderLog() {
  const user = state.openChat;
  if (!user) return;
  const log = $('log');
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.replaceChildren(...(state.messages.get(user) ?? []).map((m) => {
    const item = document.createElement('li');
    if (m.kind === 'call') {
      item.className = 'event';
      item.textContent = m.text;
      return item;
    }
    const mine = m.from === state.profile?.id;
    item.className = mine ? 'mine' : 'theirs';
    if (m.messageId) item.dataset.messageId = String(m.messageId);
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = mine ? 'You' : m.from;
    const body = document.createElement('span');
    body.className = 'body';
    body.textContent = m.body;
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = new Date(m.sentAt ?? Date.now()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      + (mine ? ` · ${RECEIPTS[m.receipt] ?? m.receipt}` : '');
    if (mine) item.dataset.receipt = m.receipt;
    item.append(who, body, meta);
    return item;
  }));
  $('older').hidden = !state.hasMore.get(user);
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

/** @param {any} event */
function chat(event) {
  const peer = event.from === state.profile?.id ? event.to : event.from;
  const list = state.messages.get(peer) ?? [];
  if (list.some((m) => m.messageId === event.messageId)) return; // a backlog repeat
  list.push({ ...event, receipt: 'delivered' });
  state.messages.set(peer, list);
  if (state.openChat === peer && document.visibilityState === 'visible') {
    renderLog();
  } else {
    const contact = state.contacts.get(peer);
    if (contact && event.from === peer) contact.unread += 1;
    renderContacts();
    if (state.openChat === peer) renderLog();
  }
}

/** @param {string} clientMessageId @param {string} receipt @param {number} [messageId] */
function delivery(clientMessageId, receipt, messageId) {
  for (const [peer, list] of state.messages) {
    const message = list.find((m) => m.clientMessageId === clientMessageId && m.from === state.profile?.id);
    if (!message) continue;
    message.receipt = receipt;
    if (messageId) message.messageId = messageId;
    if (state.openChat === peer) renderLog();
    return;
  }
}

$('send-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const to = state.openChat;
  const body = $('message').value;
  if (!to || !body.trim()) return;
  const clientMessageId = `w${Date.now().toString(36)}-${state.nextClientMessage++}`;
  const list = state.messages.get(to) ?? [];
  list.push({ from: state.profile?.id, to, body, clientMessageId, sentAt: Date.now(), receipt: 'sending' });
  state.messages.set(to, list);
  $('message').value = '';
  renderLog();
  try {
    const reply = await client.request('send', { to, clientMessageId, body });
    delivery(clientMessageId, reply.receipt, reply.messageId);
  } catch (error) {
    delivery(clientMessageId, 'failed');
    notify(error.message, 'error');
  }
});

// ---------------------------------------------------------------- calls (signalling only)

/** @param {string} peer @param {string} text */
function logCallEvent(peer, text) {
  const list = state.messages.get(peer) ?? [];
  list.push({ kind: 'call', text: `${text} · ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` });
  state.messages.set(peer, list);
  if (state.openChat === peer) renderLog();
}

/** @param {string} [text] */
function renderCall(text) {
  const call = state.call;
  const bar = $('call-bar');
  $('call-button').disabled = !!call;
  renderMe();
  if (!call) { bar.hidden = true; return; }
  bar.hidden = false;
  if (text) $('call-text').textContent = text;
  const ringingHere = call.role === 'callee' && !call.answered;
  $('call-accept').hidden = !ringingHere;
  $('call-decline').hidden = !ringingHere;
  $('call-hangup').hidden = ringingHere;
}

/** @param {string} text */
function callText(text) { if (state.call) renderCall(`Calling ${state.call.peer}: ${text}`); }

$('call-button').addEventListener('click', async () => {
  const peer = state.openChat;
  if (!peer || state.call) return;
  try {
    const reply = await client.request('invite', { to: peer });
    state.call = { call: reply.call, peer, role: 'caller', answered: false };
    renderCall(`Calling ${peer}…`);
    $('call-hangup').focus();
  } catch (error) { notify(error.message, 'error'); }
});

/** @param {any} event */
function callIncoming(event) {
  if (state.call) { client.request('decline', { call: event.call }).catch(() => {}); return; }
  state.call = { call: event.call, peer: event.from, role: 'callee', answered: false };
  client.request('ringing', { call: event.call }).catch(() => {});
  renderCall(`Incoming call from ${event.from}`);
}

$('call-accept').addEventListener('click', async () => {
  const call = state.call;
  if (!call) return;
  try {
    await client.request('accept', { call: call.call });
    call.answered = true;
    renderCall(`In a call with ${call.peer}`);
    if (state.openChat !== call.peer && state.contacts.has(call.peer)) openChat(call.peer);
    $('call-hangup').focus();
  } catch (error) { notify(error.message, 'error'); }
});
$('call-decline').addEventListener('click', async () => {
  const call = state.call;
  if (!call) return;
  try {
    await client.request('decline', { call: call.call });
    callEnded(call.call, 'declined'); // the decliner gets no callEnded of its own
  } catch (error) { notify(error.message, 'error'); }
});
$('call-hangup').addEventListener('click', async () => {
  const call = state.call;
  if (!call) return;
  const op = call.role === 'caller' && !call.answered ? 'cancel' : 'hangUp';
  try {
    await client.request(op, { call: call.call });
    callEnded(call.call, op === 'cancel' ? 'cancelled' : 'hungUp'); // only the other party gets callEnded
  } catch (error) { notify(error.message, 'error'); }
});

const CALL_ENDINGS = {
  declined: 'Call declined', cancelled: 'Call cancelled', noAnswer: 'No answer', busy: 'Busy', hungUp: 'Call ended',
  connectionLost: 'Call lost (connection)', answeredElsewhere: 'Answered on another device',
};

/** @param {number} callId @param {string} reason */
function callEnded(callId, reason) {
  const call = state.call;
  if (!call || call.call !== callId) return;
  state.call = null;
  const missed = call.role === 'callee' && !call.answered && (reason === 'cancelled' || reason === 'noAnswer');
  logCallEvent(call.peer, missed ? `Missed call from ${call.peer}` : CALL_ENDINGS[reason] ?? `Call ended (${reason})`);
  if (missed) notify(`Missed call from ${call.peer}`);
  renderCall();
}

// ---------------------------------------------------------------- My Account

function renderAccount() {
  const profile = state.profile;
  if (!profile) return;
  $('account-email').textContent = profile.id;
  $('account-first').textContent = profile.firstName;
  $('account-last').textContent = profile.lastName || '—';
  $('offline-email').checked = profile.offlineEmail;
}

// "Edit Profile" opens the profile settings, as in the help article (My Account, then Edit Profile).
$('edit-profile').addEventListener('click', () => {
  const open = $('edit-profile').getAttribute('aria-expanded') !== 'true';
  $('edit-profile').setAttribute('aria-expanded', String(open));
  $('profile-section').hidden = !open;
  if (!open) stopEdit();
});

/** @type {string|null} */
let editing = null;
for (const pencil of document.querySelectorAll('.pencil')) {
  pencil.addEventListener('click', () => startEdit(/** @type {HTMLElement} */ (pencil).dataset.edit ?? ''));
}

/** @param {string} field */
function startEdit(field) {
  editing = field;
  const isPassword = field === 'password';
  $('edit-form').hidden = false;
  $('edit-label').textContent = ({ firstName: 'New first name', lastName: 'New last name', password: '' })[field];
  $('edit-label').hidden = isPassword;
  $('edit-value').hidden = isPassword;
  $('password-fields').hidden = !isPassword;
  showError($('edit-error'), '');
  if (isPassword) { $('edit-current').value = ''; $('edit-new').value = ''; $('edit-current').focus(); return; }
  $('edit-value').value = state.profile?.[field] ?? '';
  $('edit-value').focus();
  $('edit-value').select();
}

function stopEdit() {
  const field = editing;
  editing = null;
  $('edit-form').hidden = true;
  $('edit-current').value = ''; $('edit-new').value = '';
  if (field) /** @type {HTMLElement|null} */ (document.querySelector(`.pencil[data-edit="${field}"]`))?.focus();
}
$('edit-cancel').addEventListener('click', stopEdit);

$('edit-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    if (editing === 'password') {
      await client.request('changePassword', { currentPassword: $('edit-current').value, newPassword: $('edit-new').value });
      stopEdit();
      notify('Your password was changed. Your other devices must sign in again.');
    } else if (editing) {
      const field = editing;
      stopEdit();
      // The server saves, then closes every session with 4003; the client signs in again by itself.
      await client.request('updateProfile', { [field]: $('edit-value').value.trim() });
    }
  } catch (error) {
    showError($('edit-error'), error.message);
  }
});

$('offline-email').addEventListener('change', async () => {
  try { await client.request('updateProfile', { offlineEmail: $('offline-email').checked }); } catch (error) {
    notify(error.message, 'error');
    renderAccount();
  }
});

$('delete-start').addEventListener('click', () => {
  $('delete-form').hidden = false;
  $('delete-start').hidden = true;
  $('delete-password').focus();
});
$('delete-cancel').addEventListener('click', () => {
  $('delete-form').hidden = true; $('delete-start').hidden = false; $('delete-password').value = '';
  $('delete-start').focus();
});
$('delete-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await client.request('deleteAccount', { password: $('delete-password').value });
    $('delete-password').value = '';
    $('delete-form').hidden = true; $('delete-start').hidden = false;
    localStorage.removeItem(TOKEN_KEY);
  } catch (error) {
    showError($('delete-error'), error.message);
  }
});

// ---------------------------------------------------------------- activity and start

// Any input counts as activity (ends Idle); at most one op a minute.
let lastActivity = 0;
for (const type of ['keydown', 'pointerdown']) {
  document.addEventListener(type, () => {
    if (!state.profile || !state.live || Date.now() - lastActivity < 60000) return;
    lastActivity = Date.now();
    client.request('activity').catch(() => {});
  }, { passive: true });
}
window.addEventListener('online', () => client.reconnectNow());
// Chats that arrived while the tab was in the background stay unread until it is seen again.
document.addEventListener('visibilitychange', () => {
  const contact = state.openChat ? state.contacts.get(state.openChat) : null;
  if (document.visibilityState === 'visible' && contact && contact.unread > 0) { contact.unread = 0; renderContacts(); renderLog(); }
});
window.addEventListener('hashchange', route);

async function start() {
  route();
  await loadConfig();
  if (await finishGoogleRedirect()) return;
  if (client.hasDeviceToken) {
    try { await client.signInWithToken(); } catch (error) {
      localStorage.removeItem(TOKEN_KEY);
      client.tokenStore = memoryTokenStore();
      showError($('signin-error'), error instanceof PresenceError && error.code === 'invalid_device_token'
        ? 'Please log in again.' : signInErrorText(error));
    }
  }
}
start();
