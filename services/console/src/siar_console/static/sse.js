// Server-sent events with a bearer token. EventSource cannot send an Authorization header,
// so the stream is read with fetch: events are parsed as they arrive, and a dropped stream
// reconnects (banner shown meanwhile) resuming from the last event id it saw.

import { accessToken } from "./session.js";

/**
 * Listen to `path` (e.g. `/v1/workspaces/{ws}/conversations:stream`); `onEvent({event, id,
 * data})` gets each event (data JSON-parsed when it is JSON). `onState("open"|"lost"|
 * "signed-out")` reports the connection. Returns `stop()`.
 */
export function listen(path, { onEvent, onState = () => {}, retryMs = 2000 } = {}) {
  let stopped = false;
  let lastId = null;
  let controller = null;

  async function connect() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const headers = { accept: "text/event-stream" };
        const token = await accessToken();
        if (!token) {
          onState("signed-out"); // the session is over: the shell shows sign-in
          return;
        }
        headers.authorization = `Bearer ${token}`;
        if (lastId) headers["last-event-id"] = lastId;
        const response = await fetch(path, { headers, signal: controller.signal });
        if (response.status === 401) await accessToken({ force: true });
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        onState("open");
        await read(response.body, (event) => {
          if (event.id) lastId = event.id;
          onEvent(event);
        });
      } catch (err) {
        if (stopped) return;
      }
      if (stopped) return;
      onState("lost");
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }

  connect();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

async function read(body, emit) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = parse(block);
      if (event) emit(event);
    }
  }
}

/** One SSE block → {event, id, data}; null for comments-only blocks (keep-alives). */
export function parse(block) {
  const event = { event: "message", id: null, data: "" };
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "event") event.event = value;
    else if (field === "id") event.id = value;
  }
  if (!data.length) return null;
  event.data = data.join("\n");
  try {
    event.data = JSON.parse(event.data);
  } catch {
    // plain-text data stays a string
  }
  return event;
}
