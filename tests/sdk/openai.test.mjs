// The official `openai` client against the sandbox's chat completions: every reply parses, and the
// usage the library reads is the usage the sandbox billed (/_sandbox/stats after a reset).
import { test, beforeEach, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { SANDBOX_KEY, SANDBOX_URL, billed, fresh, restore, longText, sandboxStats } from './common.mjs';

const MODEL = 'gpt-4.1';
const client = new OpenAI({ baseURL: SANDBOX_URL, apiKey: SANDBOX_KEY, maxRetries: 0, timeout: 20000 });
const messages = [
  { role: 'system', content: 'You are a screenwriter for vertical short dramas. Keep every line short, vivid and in character; '.repeat(3) },
  { role: 'user', content: 'Write the opening line of the CEO confrontation.' },
];

beforeEach(() => fresh());
after(() => restore());

function assertBilledEquals(bill, usage) {
  assert.equal(bill.prompt_tokens, usage.prompt_tokens);
  assert.equal(bill.completion_tokens, usage.completion_tokens);
  assert.equal(bill.total_tokens, usage.total_tokens);
  assert.equal(bill.cached_tokens, usage.prompt_tokens_details?.cached_tokens ?? 0);
}

test('a completion parses and its usage is what the sandbox billed', async () => {
  const completion = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 200 });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.model, MODEL);
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.ok(completion.choices[0].message.content.length > 0);
  assert.equal(completion.choices[0].finish_reason, 'stop');
  const bill = await billed(1);
  assertBilledEquals(bill, completion.usage);
  assertBilledEquals(bill.by_model[MODEL], completion.usage);

  // The same short system prompt again: under OpenAI's 1,024-token minimum nothing is cached.
  const short = await client.chat.completions.create({
    model: MODEL, max_tokens: 200, messages: [messages[0], { role: 'user', content: 'And the reply.' }],
  });
  assert.equal(short.usage.prompt_tokens_details?.cached_tokens ?? 0, 0);

  // A 1,200-token system prompt twice: the second reads the longest 128-token step from 1,024
  // that fits, and that is what is billed as cached.
  const bible = { role: 'system', content: longText(1200) };
  const first = await client.chat.completions.create({
    model: MODEL, max_tokens: 50, messages: [bible, { role: 'user', content: 'Line one.' }],
  });
  assert.equal(first.usage.prompt_tokens_details?.cached_tokens ?? 0, 0);
  const again = await client.chat.completions.create({
    model: MODEL, max_tokens: 50, messages: [bible, { role: 'user', content: 'Line two.' }],
  });
  const cached = again.usage.prompt_tokens_details.cached_tokens;
  assert.ok(cached >= 1024 && (cached - 1024) % 128 === 0 && cached <= again.usage.prompt_tokens, `cached ${cached}`);
  const all = await billed(4);
  assert.equal(all.cached_tokens, cached);
  assert.equal(all.prompt_tokens,
    completion.usage.prompt_tokens + short.usage.prompt_tokens + first.usage.prompt_tokens + again.usage.prompt_tokens);
});

test('a stream with include_usage parses and its usage chunk is what the sandbox billed', async () => {
  const stream = await client.chat.completions.create({
    model: MODEL, messages, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    const choice = chunk.choices[0];
    if (choice?.delta?.content) text += choice.delta.content;
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(text.length > 0);
  assert.equal(finish, 'stop');
  assert.ok(usage, 'the last chunk carries the usage');
  assertBilledEquals(await billed(1), usage);

  // The library's stream helper assembles the same completion.
  const runner = client.chat.completions.stream({
    model: MODEL, messages, stream_options: { include_usage: true },
  });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.content, text);
  const bill = await billed(2);
  assert.equal(bill.completion_tokens, 2 * usage.completion_tokens);
});

test('a wrong key is an AuthenticationError', async () => {
  const wrong = new OpenAI({ baseURL: SANDBOX_URL, apiKey: 'sk-wrong-key-for-the-sdk-tier', maxRetries: 0 });
  await assert.rejects(
    wrong.chat.completions.create({ model: MODEL, messages }),
    (error) => {
      assert.ok(error instanceof OpenAI.AuthenticationError, String(error));
      assert.equal(error.status, 401);
      assert.equal(error.code, 'invalid_api_key');
      return true;
    },
  );
});

test('a 429 is a RateLimitError with its retry headers', async () => {
  await fresh({ faults: { rate_limit: 1.0 } });
  await assert.rejects(
    client.chat.completions.create({ model: MODEL, messages }),
    (error) => {
      assert.ok(error instanceof OpenAI.RateLimitError, String(error));
      assert.equal(error.status, 429);
      assert.equal(error.code, 'rate_limit_exceeded');
      assert.equal(error.headers.get('retry-after'), '1');
      return true;
    },
  );
  const stats = await sandboxStats();
  assert.equal(stats.billed.requests, 0);
  assert.equal(stats.status['429'], 1);
});

test('a 503 overloaded is an InternalServerError', async () => {
  await fresh({ faults: { server_503: 1.0 } });
  await assert.rejects(
    client.chat.completions.create({ model: MODEL, messages }),
    (error) => {
      assert.ok(error instanceof OpenAI.InternalServerError, String(error));
      assert.equal(error.status, 503);
      assert.match(error.message, /overloaded/);
      return true;
    },
  );
  assert.equal((await sandboxStats()).billed.requests, 0);
});

test('the model list parses', async () => {
  const ids = [];
  for await (const model of client.models.list()) {
    assert.equal(model.object, 'model');
    ids.push(model.id);
  }
  assert.ok(ids.includes(MODEL), ids.join(','));
  assert.equal((await client.models.retrieve(MODEL)).id, MODEL);
  await assert.rejects(client.models.retrieve('nope'), OpenAI.NotFoundError);
});
