// Decodes Sparkplug B payloads with Eclipse Tahu's JavaScript codec
// (npm sparkplug-payload), independently of the agent's own schema.
// Usage: node decode.js TOPIC_FILE PAYLOAD_FILE...
//   TOPIC_FILE holds one topic a line, the Nth for the Nth payload file.
// Prints one JSON object a line: {topic, timestamp, seq, metrics: [...]},
// 64-bit numbers as decimal strings' numbers where they fit.
'use strict';
const fs = require('fs');
const sparkplug = require('sparkplug-payload').get('spBv1.0');

function plain(value) {
  if (value === null || value === undefined) return value;
  if (typeof value === 'object' && typeof value.toNumber === 'function') return value.toNumber();
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

const [topicFile, ...payloadFiles] = process.argv.slice(2);
const topics = fs.readFileSync(topicFile, 'utf8').split('\n');
payloadFiles.forEach((file, i) => {
  const decoded = sparkplug.decodePayload(fs.readFileSync(file));
  process.stdout.write(JSON.stringify(Object.assign({ topic: topics[i] }, plain(decoded))) + '\n');
});
