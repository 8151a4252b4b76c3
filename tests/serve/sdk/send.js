// Send COUNT events through one official Node SDK to a hopsim serve, then flush.
// usage: node send.js segment|rudderstack URL WRITE_KEY PREFIX COUNT
// Prints one JSON line: {"sdk": ..., "sent": n, "errors": [...]}.
'use strict';
const [sdk, url, writeKey, prefix, countText] = process.argv.slice(2);
const count = Number(countText);
const errors = [];

function events(send) {
  for (let i = 0; i < count; i++) {
    const userId = `${prefix}-user-${i % 7}`;
    if (i % 10 === 0) {
      send('identify', { userId, traits: { plan: 'pro', seats: i } });
    } else if (i % 10 === 1) {
      send('page', { userId, name: 'Docs', properties: { path: `/p/${i}` } });
    } else {
      send('track', { userId, event: 'Item Viewed', properties: { n: i, price: 9.5 } });
    }
  }
}

async function segment() {
  const { Analytics } = require('@segment/analytics-node');
  const client = new Analytics({ writeKey, host: url, maxEventsInBatch: 15, flushInterval: 200 });
  client.on('error', (err) => errors.push(String(err && err.reason ? err.reason : err)));
  events((kind, body) => client[kind](body));
  await client.closeAndFlush({ timeout: 20000 });
}

async function rudderstack() {
  const Analytics = require('@rudderstack/rudder-sdk-node');
  // its documented set-up: new Analytics(writeKey, { dataPlaneUrl }); gzip is on by default
  const client = new Analytics(writeKey, {
    dataPlaneUrl: url,
    flushAt: 15,
    flushInterval: 200,
    retryCount: 0,
    logLevel: 'error',
    errorHandler: (err) => errors.push(String(err && err.message ? err.message : err)),
  });
  events((kind, body) =>
    client[kind](body, (err) => {
      if (err) errors.push(String(err.message || err));
    }),
  );
  await client.flush();
}

(sdk === 'segment' ? segment() : rudderstack())
  .then(() => console.log(JSON.stringify({ sdk, sent: count, errors })))
  .catch((err) => {
    console.log(JSON.stringify({ sdk, sent: count, errors: [...errors, String(err)] }));
    process.exitCode = 1;
  });
