// The TV page. Attaches to the cast session as its receiver, shows the join code until a
// player joins, then plays the game in a sandboxed iframe and relays each input to it, in
// order, with postMessage aimed at the game's origin (never '*'). The game's feedback for the
// controllers comes back the same way and is accepted only from that iframe and that origin.
//
// Nothing is lost across a cut: the page acknowledges an input once the game holds it, keeps
// the last one in sessionStorage, and attaches again with `after` = the last one it holds, so
// the server sends the rest. An input seen twice is dropped; a gap means a frame went missing,
// and the page attaches again to get it.
//
// Messages to the game: {type: 'cast.session', sessionId, sessionData} once its page has
// loaded, then {type: 'cast.input', seq, seat, inputType, inputData} and
// {type: 'cast.controller', seat, event}. From the game: {type: 'cast.feedback', seat?, data}.

import { CastSocket } from './socket.js';

const config = JSON.parse(document.getElementById('cast-config').textContent);
const key = new URLSearchParams(location.search).get('key') || '';
const storageKey = `gamekeeper.cast.${config.sessionId}.after`;
const FATAL = new Set(['invalid_receiver_key', 'cast_session_terminated', 'cast_session_not_found']);

const lobby = document.getElementById('cast-lobby');
const stage = document.getElementById('cast-stage');
const statusLine = document.getElementById('cast-status');

let held = Number(sessionStorage.getItem(storageKey)) || 0; // the last input the game holds
let received = held; // the last input this page has, posted to the game or waiting for it
let fresh = true; // the first input after attaching may start past `received` (backlog trimmed)
let frame = null;
let gameReady = false;
const waiting = []; // messages for the game until its page has loaded
let joined = false;

function say(text, warning = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle('cast-status--warning', warning);
}

function showStatus(state) {
  if (state === 'connecting') say('Connecting…');
  else if (state === 'reconnecting') say('Reconnecting…', true);
  else if (state === 'attached') say(joined ? '' : 'Waiting for players…');
}

function showGame() {
  if (frame) return;
  joined = true;
  if (statusLine.textContent === 'Waiting for players…') say('');
  frame = document.createElement('iframe');
  frame.title = 'Game';
  frame.setAttribute('sandbox', 'allow-scripts allow-same-origin');
  frame.setAttribute('allow', 'autoplay; fullscreen; gamepad');
  frame.referrerPolicy = 'no-referrer';
  frame.addEventListener('load', () => {
    gameReady = true;
    post({ type: 'cast.session', sessionId: config.sessionId, sessionData: config.sessionData });
    flush();
  });
  frame.src = config.gameUrl;
  stage.append(frame);
  stage.hidden = false;
  lobby.hidden = true;
}

function post(message) {
  frame.contentWindow.postMessage(message, config.gameOrigin);
}

function toGame(message) {
  waiting.push(message);
  flush();
}

function flush() {
  if (!gameReady) return;
  let last = 0;
  while (waiting.length) {
    const message = waiting.shift();
    post(message);
    if (message.type === 'cast.input') last = message.seq;
  }
  if (last > held) {
    held = last;
    sessionStorage.setItem(storageKey, String(held));
    socket.send({ type: 'ack', seq: held });
  }
}

function onInput(input) {
  const { seq } = input;
  if (!Number.isInteger(seq) || seq <= received) return; // already here
  if (!fresh && seq !== received + 1) {
    socket.reconnect(); // a frame went missing: attach again after the last one we have
    return;
  }
  fresh = false;
  received = seq;
  showGame();
  toGame({
    type: 'cast.input',
    seq,
    seat: input.seat,
    inputType: input.inputType,
    inputData: input.inputData,
  });
}

function onFrame(message) {
  switch (message.type) {
    case 'attached':
      fresh = true;
      if (Array.isArray(message.controllers) && message.controllers.length) showGame();
      break;
    case 'input':
      onInput(message);
      break;
    case 'controller':
      showGame();
      toGame({ type: 'cast.controller', seat: message.seat, event: message.event });
      break;
    case 'ended':
      end(message.reason === 'idle' ? 'Nobody played for a while.' : 'The game ended it.');
      break;
    case 'error':
      if (FATAL.has(message.code)) end(message.message || 'This cast session cannot be used.');
      break;
    default:
      break;
  }
}

function end(reason) {
  socket.stop();
  sessionStorage.removeItem(storageKey);
  say('');
  document.getElementById('cast-ended-reason').textContent = reason;
  document.getElementById('cast-ended').hidden = false;
}

// The game's feedback for its controllers: only from the game's iframe, on the game's origin.
window.addEventListener('message', (event) => {
  if (!frame || event.source !== frame.contentWindow || event.origin !== config.gameOrigin) return;
  const message = event.data;
  if (!message || typeof message !== 'object' || message.type !== 'cast.feedback') return;
  const { seat, data } = message;
  if (!data || typeof data !== 'object' || Array.isArray(data)) return;
  if (seat !== undefined && !Number.isInteger(seat)) return;
  socket.send(seat === undefined ? { type: 'message', data } : { type: 'message', seat, data });
});

const socket = new CastSocket({
  path: config.wsPath,
  attach: () => ({
    type: 'attach',
    role: 'receiver',
    sessionId: config.sessionId,
    key,
    after: received,
  }),
  onFrame,
  onStatus: showStatus,
});
socket.start();
