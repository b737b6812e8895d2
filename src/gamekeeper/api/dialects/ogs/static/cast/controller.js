// The phone's controller. Signs in as a guest (a random device id kept in localStorage), joins
// the cast session with the code from its address, attaches over the WebSocket and sends each
// press and release of the d-pad and the buttons as an input frame:
//   {inputType: 'dpad', inputData: {direction: 'up' | 'down' | 'left' | 'right', pressed}}
//   {inputType: 'button', inputData: {button: 'a' | 'b', pressed}}
// The game's feedback comes back as message frames: `vibrate` (ms or a pattern) and `text`.

import { CastSocket } from './socket.js';

const config = JSON.parse(document.getElementById('cast-config').textContent);
const DEVICE_KEY = 'gamekeeper.cast.deviceId';
const FATAL = new Set(['cast_session_terminated', 'cast_session_not_found', 'invalid_join_code']);

const statusLine = document.getElementById('cast-status');
const seatLine = document.getElementById('pad-seat');
const messageLine = document.getElementById('pad-message');
const controls = [...document.querySelectorAll('.pad__key, .pad__button')];

let token = null;
let socket = null;
let nextId = 1;

function say(text) {
  statusLine.textContent = text;
}

function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = `cast-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

async function call(path, body, bearer) {
  const headers = { 'Content-Type': 'application/json' };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(answer.error?.message || `The server answered ${response.status}`);
    error.code = answer.error?.code;
    throw error;
  }
  return answer;
}

async function signIn() {
  const session = await call('/api/v1/auth/device', { deviceId: deviceId() });
  token = session.sessionToken;
}

function enable(on) {
  for (const control of controls) control.disabled = !on;
}

function fail(message) {
  enable(false);
  if (socket) socket.stop();
  say(message);
}

function onFrame(frame) {
  switch (frame.type) {
    case 'attached':
      seatLine.textContent = `Player ${frame.seat}`;
      enable(true);
      break;
    case 'message':
      feedback(frame.data || {});
      break;
    case 'ended':
      fail('The game has ended this session.');
      break;
    case 'error':
      if (FATAL.has(frame.code)) fail(frame.message);
      else if (frame.status === 401) signInAgain(); // the session token ran out
      break;
    default:
      break;
  }
}

function feedback(data) {
  if (data.vibrate !== undefined && navigator.vibrate) navigator.vibrate(data.vibrate);
  if (typeof data.text === 'string') messageLine.textContent = data.text;
}

function onStatus(state) {
  if (state === 'connecting') say('Connecting…');
  else if (state === 'reconnecting') {
    enable(false);
    say('Reconnecting…');
  } else if (state === 'attached') say('Connected');
}

function send(inputType, inputData) {
  if (!socket) return;
  socket.send({ type: 'input', id: nextId++, inputType, inputData });
}

function bind(control) {
  const [inputType, name, value] = control.dataset.direction
    ? ['dpad', 'direction', control.dataset.direction]
    : ['button', 'button', control.dataset.button];
  let pressed = false;
  const press = (on) => {
    if (pressed === on || control.disabled) return;
    pressed = on;
    control.classList.toggle('is-pressed', on);
    send(inputType, { [name]: value, pressed: on });
  };
  control.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    control.setPointerCapture?.(event.pointerId);
    press(true);
  });
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
    control.addEventListener(type, () => press(false));
  }
  control.addEventListener('keydown', (event) => {
    if ((event.key === 'Enter' || event.key === ' ') && !event.repeat) {
      event.preventDefault();
      press(true);
    }
  });
  control.addEventListener('keyup', (event) => {
    if (event.key === 'Enter' || event.key === ' ') press(false);
  });
}

async function signInAgain() {
  socket.stop();
  try {
    await signIn();
  } catch (error) {
    fail(error.message);
    return;
  }
  connect();
}

async function start() {
  controls.forEach(bind);
  try {
    await signIn();
    say('Joining…');
    await call(`/api/v1/cast/session/${config.sessionId}/join`, { code: config.code }, token);
  } catch (error) {
    fail(error.message);
    return;
  }
  connect();
}

function connect() {
  socket = new CastSocket({
    path: config.wsPath,
    attach: () => ({ type: 'attach', role: 'controller', sessionId: config.sessionId, token }),
    onFrame,
    onStatus,
  });
  socket.start();
}

start();
