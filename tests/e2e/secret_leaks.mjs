// What a secret looks like on the wire or in a transcript, in every encoding a SASL mechanism
// gives it, so a leak check searches for what really travels (a password never travels raw).
// The browser tests' copy of tests/common/secret_leaks.h: keep the two in step.
//
// SASL PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER all embed the secret somewhere inside a base64
// payload; where it starts (offset mod 3) decides which base64 characters it becomes. For each
// of the three alignments we keep the characters that depend on the secret's bytes alone, so
// the search finds the secret inside *any* payload, whatever surrounds it. CRAM-MD5 sends
// HMAC-MD5(password, challenge) in hex, which is crackable offline: give the challenges seen
// (decoded) and their answers are searched for too.
import crypto from 'node:crypto';

// The base64 characters that encode `secret` (bytes) alone when it starts `offset` (0, 1 or 2)
// bytes into a 3-byte group of a larger payload.
export function alignedBase64Core(secret, offset) {
  const padded = Buffer.concat([Buffer.alloc(offset), Buffer.from(secret)]);
  const encoded = padded.toString('base64');
  // Characters touched by the leading padding bytes: offset 1 -> the first 2, offset 2 -> the first 3.
  const skipFront = offset === 0 ? 0 : offset + 1;
  // Whole 3-byte groups only at the end: a partial last group's characters depend on what follows.
  const end = Math.floor(padded.length / 3) * 4;
  return end <= skipFront ? '' : encoded.slice(skipFront, end);
}

export function cramMd5Hex(password, challenge) {
  return crypto.createHmac('md5', Buffer.from(password)).update(Buffer.from(challenge, 'latin1')).digest('hex');
}

// Every form of `secret` worth searching for, as latin1 strings. Forms shorter than 4 characters
// are left out (they would match by chance), so use secrets of 6 bytes or more.
export function secretForms(secret, cramChallenges = []) {
  const forms = [];
  const add = (form) => { if (form.length >= 4) forms.push(form); };
  if (!secret) return forms;
  const bytes = Buffer.from(secret, 'utf8');
  add(bytes.toString('latin1'));
  for (let offset = 0; offset < 3; ++offset) add(alignedBase64Core(bytes, offset));
  for (const challenge of cramChallenges) {
    const hex = cramMd5Hex(bytes, challenge);
    add(hex);
    for (let offset = 0; offset < 3; ++offset) add(alignedBase64Core(Buffer.from(hex), offset));
  }
  return forms;
}

// The first form of `secret` found in `text` (a string, or a Buffer read as latin1), or ''.
export function findSecret(text, secret, cramChallenges = []) {
  const haystack = Buffer.isBuffer(text) ? text.toString('latin1') : String(text);
  return secretForms(secret, cramChallenges).find((form) => haystack.includes(form)) || '';
}
