// The official `@anthropic-ai/sdk` client against the sandbox's Messages API (POST /v1/messages):
// every reply and stream event parses, errors map onto the library's classes, the cache fields
// of a `cache_control` breakpoint are read, and the usage the library reads is what the sandbox
// billed (/_sandbox/stats after a reset: prompt_tokens = input + cache writes + cache reads).
import { test, beforeEach, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { SANDBOX_KEY, SANDBOX_ROOT, billed, fresh, restore, longText, sandboxStats } from './common.mjs';

const MODEL = 'claude-sonnet-4-5';
// The library appends /v1/messages to its base URL.
const client = new Anthropic({ baseURL: SANDBOX_ROOT, apiKey: SANDBOX_KEY, maxRetries: 0, timeout: 20000 });
const request = {
  model: MODEL,
  max_tokens: 300,
  system: 'You are a screenwriter for vertical short dramas.',
  messages: [{ role: 'user', content: 'Write the opening line of the CEO confrontation.' }],
};

beforeEach(() => fresh());
after(() => restore());

/** The whole prompt a Messages usage describes. */
const promptOf = (usage) =>
  usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);

function assertBilledEquals(bill, usage) {
  assert.equal(bill.prompt_tokens, promptOf(usage));
  assert.equal(bill.completion_tokens, usage.output_tokens);
  assert.equal(bill.cached_tokens, usage.cache_read_input_tokens ?? 0);
  assert.equal(bill.cache_creation_tokens, usage.cache_creation_input_tokens ?? 0);
}

test('a message parses and its usage is what the sandbox billed', async () => {
  const message = await client.messages.create(request);
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.equal(message.model, MODEL);
  assert.match(message.id, /^msg_/);
  assert.equal(message.content[0].type, 'text');
  assert.ok(message.content[0].text.length > 0);
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.stop_sequence, null);
  assert.equal(message.usage.cache_creation_input_tokens, 0);
  assert.equal(message.usage.cache_read_input_tokens, 0);
  const bill = await billed(1);
  assertBilledEquals(bill, message.usage);
  assertBilledEquals(bill.by_model[MODEL], message.usage);

  // A relay-style bearer token (the library's authToken) works too.
  const relay = new Anthropic({ baseURL: SANDBOX_ROOT, authToken: SANDBOX_KEY, apiKey: null, maxRetries: 0 });
  const short = await relay.messages.create({ ...request, max_tokens: 4 });
  assert.equal(short.stop_reason, 'max_tokens');
  assert.equal(short.usage.output_tokens, 4);
});

test('a stream parses event by event and its final usage is what the sandbox billed', async () => {
  const plain = await client.messages.create(request);
  const stream = await client.messages.create({ ...request, stream: true });
  const types = [];
  let text = '';
  let startUsage = null;
  let finalUsage = null;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'message_start') startUsage = event.message.usage;
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    if (event.type === 'message_delta') finalUsage = event.usage;
  }
  assert.deepEqual(types.slice(0, 2), ['message_start', 'content_block_start']);
  assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
  assert.equal(text, plain.content[0].text);
  assert.equal(startUsage.input_tokens, plain.usage.input_tokens);
  assert.equal(finalUsage.output_tokens, plain.usage.output_tokens);
  await billed(2);

  // The library's MessageStream accumulates the same message and usage.
  const helper = client.messages.stream(request);
  const final = await helper.finalMessage();
  assert.equal(final.content[0].text, plain.content[0].text);
  assert.equal(final.stop_reason, 'end_turn');
  assert.deepEqual(
    [final.usage.input_tokens, final.usage.output_tokens],
    [plain.usage.input_tokens, plain.usage.output_tokens],
  );
  const bill = await billed(3);
  assert.equal(bill.completion_tokens, 3 * plain.usage.output_tokens);
  assert.equal(bill.prompt_tokens, 3 * promptOf(plain.usage));
});

test('a cache_control breakpoint writes the cache, then a later request reads it', async () => {
  const bible = longText(1200);
  const take = (n) => ({
    model: MODEL,
    max_tokens: 200,
    system: [
      { type: 'text', text: 'You write takes of one scene.' },
      { type: 'text', text: bible, cache_control: { type: 'ephemeral' } },
    ],
    messages: [{ role: 'user', content: `Take ${n}: she tears up the contract.` }],
  });
  const first = await client.messages.create(take(1));
  assert.ok(first.usage.cache_creation_input_tokens >= 1024, JSON.stringify(first.usage));
  assert.equal(first.usage.cache_read_input_tokens, 0);
  const afterFirst = await billed(1);
  assertBilledEquals(afterFirst, first.usage);

  const second = await client.messages.create(take(2));
  assert.equal(second.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens);
  assert.equal(second.usage.cache_creation_input_tokens, 0);
  const afterSecond = await billed(2);
  assert.equal(afterSecond.cached_tokens, second.usage.cache_read_input_tokens);
  assert.equal(afterSecond.cache_creation_tokens, first.usage.cache_creation_input_tokens);
  assert.equal(afterSecond.prompt_tokens, promptOf(first.usage) + promptOf(second.usage));

  // Streamed: the library's final message carries the cache read.
  const streamed = await client.messages.stream(take(3)).finalMessage();
  assert.equal(streamed.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens);
  const afterThird = await billed(3);
  assert.equal(afterThird.cached_tokens, 2 * first.usage.cache_creation_input_tokens);

  // Under the minimum (1,024 tokens), nothing is cached.
  const small = { ...take(4), system: [{ type: 'text', text: longText(300), cache_control: { type: 'ephemeral' } }] };
  for (let i = 0; i < 2; i++) {
    const reply = await client.messages.create(small);
    assert.equal(reply.usage.cache_creation_input_tokens, 0);
    assert.equal(reply.usage.cache_read_input_tokens, 0);
  }
});

test('a wrong key is an AuthenticationError', async () => {
  const wrong = new Anthropic({ baseURL: SANDBOX_ROOT, apiKey: 'sk-wrong-key-for-the-sdk-tier', maxRetries: 0 });
  await assert.rejects(wrong.messages.create(request), (error) => {
    assert.ok(error instanceof Anthropic.AuthenticationError, String(error));
    assert.equal(error.status, 401);
    assert.equal(error.error.type, 'error');
    assert.equal(error.error.error.type, 'authentication_error');
    return true;
  });
});

test('a 429 is a RateLimitError with retry-after', async () => {
  await fresh({ faults: { rate_limit: 1.0 } });
  await assert.rejects(client.messages.create(request), (error) => {
    assert.ok(error instanceof Anthropic.RateLimitError, String(error));
    assert.equal(error.status, 429);
    assert.equal(error.error.error.type, 'rate_limit_error');
    assert.equal(error.headers.get('retry-after'), '1');
    return true;
  });
  const stats = await sandboxStats();
  assert.equal(stats.billed.requests, 0);
  assert.equal(stats.status['429'], 1);
});

test('a 529 is an OverloadedError, and so is an error event mid-stream', async () => {
  await fresh({ faults: { server_503: 1.0 } });
  await assert.rejects(client.messages.create(request), (error) => {
    assert.ok(error instanceof Anthropic.InternalServerError, String(error));
    assert.equal(error.constructor.name, 'OverloadedError');
    assert.equal(error.status, 529);
    assert.equal(error.error.error.type, 'overloaded_error');
    return true;
  });
  assert.equal((await sandboxStats()).billed.requests, 0);

  await fresh({ faults: { stream_error_event: 1.0 } });
  const stream = await client.messages.create({ ...request, stream: true });
  let deltas = 0;
  await assert.rejects(
    (async () => {
      for await (const event of stream) if (event.type === 'content_block_delta') deltas++;
    })(),
    (error) => {
      assert.ok(error instanceof Anthropic.APIError, String(error));
      assert.equal(error.error.error.type, 'overloaded_error');
      return true;
    },
  );
  assert.ok(deltas > 0);
});

test('the model list parses as a page of models', async () => {
  const ids = [];
  for await (const model of client.models.list()) {
    assert.equal(model.type, 'model');
    assert.ok(!Number.isNaN(Date.parse(model.created_at)));
    ids.push(model.id);
  }
  assert.ok(ids.includes(MODEL), ids.join(','));
  const one = await client.models.retrieve(MODEL);
  assert.equal(one.id, MODEL);
  await assert.rejects(client.models.retrieve('claude-nope'), Anthropic.NotFoundError);
});
