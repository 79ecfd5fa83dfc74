import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeText, PUNCTUATION, SPECIAL_TOKENS, splitWords, Tokenizer } from '../../lib/model/tokenizer.ts';
import { list } from '../../lib/tasks/registry.ts';
import { splitExamples } from '../../lib/tasks/splits.ts';
import type { Example, Task } from '../../lib/tasks/types.ts';
import { dotWalk } from '../tasks/fixture-task.ts';

const tasks: Task[] = [dotWalk, ...list()];
const tokenizer = Tokenizer.fromTasks(tasks);

function textsOf(example: Example): string[] {
  return [example.question, example.caption, example.answer, ...example.stepDescriptions, ...example.steps.flatMap((s) => [s.text, s.caption])];
}

test('splitting rule: lower case, punctuation apart, numbers digit by digit', () => {
  assert.equal(splitWords('Which CELL (r,c)? top-left: 12 moves.'), ['which', 'cell', '(', 'r', ',', 'c', ')', '?', 'top', '-', 'left', ':', '1', '2', 'moves', '.']);
  assert.equal(splitWords('  a3   c1\n<answer> 90 '), ['a3', 'c1', '<answer>', '9', '0']);
  assert.equal(splitWords(''), []);
  assert.is(normalizeText('Go UP,right.'), 'go up , right .');
});

test('special tokens come first, in METHOD.md order, with fixed ids', () => {
  assert.equal(tokenizer.tokens.slice(0, SPECIAL_TOKENS.length), [...SPECIAL_TOKENS]);
  assert.is(tokenizer.special['<pad>'], 0);
  SPECIAL_TOKENS.forEach((token, id) => {
    assert.is(tokenizer.id(token), id);
    assert.is(tokenizer.special[token], id);
    assert.ok(tokenizer.isSpecial(id));
  });
  assert.not.ok(tokenizer.isSpecial(tokenizer.id('the')));
  assert.not.ok(tokenizer.has('<unk>'), 'there is no <unk>');
  assert.equal(Array.from(tokenizer.encode('<answer> 3 <eos>')), [tokenizer.special['<answer>'], tokenizer.id('3'), tokenizer.special['<eos>']]);
  assert.is(tokenizer.decode(tokenizer.encode('<step> move left . <answer> 2 <eos>'), { skipSpecial: true }), 'move left . 2');
});

test('digits and punctuation are always in the vocabulary', () => {
  const bare = Tokenizer.fromWords([]);
  for (const token of [...'0123456789', ...PUNCTUATION]) assert.ok(bare.has(token), token);
  assert.is(bare.vocabSize, SPECIAL_TOKENS.length + 10 + PUNCTUATION.length);
});

test('ids do not depend on the order of the words or tasks', () => {
  const words = tasks.flatMap((t) => t.vocabulary());
  assert.equal(Tokenizer.fromWords([...words].reverse()).tokens, tokenizer.tokens);
  assert.equal(Tokenizer.fromTasks([...tasks].reverse()).tokens, tokenizer.tokens);
});

test('unknown words are errors naming the word and where it is', () => {
  assert.throws(() => tokenizer.encode('the dot zebra'), (e: Error) => /unknown word "zebra" \(word 3, character 9\) in "the dot zebra"/.test(e.message));
  assert.throws(() => tokenizer.encode('the <unk>'), /unknown word "<unk>"/);
  assert.throws(() => tokenizer.id('zebra'), /unknown token "zebra"/);
  assert.throws(() => tokenizer.decode([tokenizer.vocabSize]), /outside the vocabulary/);
  assert.throws(() => tokenizer.decode([-1]), /outside the vocabulary/);
});

test('JSON round trip gives the same tokenizer; bad JSON is rejected', () => {
  const restored = Tokenizer.fromJSON(JSON.parse(JSON.stringify(tokenizer)));
  assert.equal(restored.tokens, tokenizer.tokens);
  assert.is(restored.vocabSize, tokenizer.vocabSize);
  assert.throws(() => Tokenizer.fromJSON({ format: 'other' } as never), /not an mmcot word tokenizer/);
  const shuffledSpecials = { ...tokenizer.toJSON(), tokens: ['<bos>', '<pad>', ...tokenizer.tokens.slice(2)] };
  assert.throws(() => Tokenizer.fromJSON(shuffledSpecials), /token 0 must be <pad>/);
  const duplicated = { ...tokenizer.toJSON(), tokens: [...tokenizer.tokens, 'the'] };
  assert.throws(() => Tokenizer.fromJSON(duplicated), /appears twice/);
  const notAWord = { ...tokenizer.toJSON(), tokens: [...tokenizer.tokens, 'two words'] };
  assert.throws(() => Tokenizer.fromJSON(notAWord), /not a single normalised word/);
});

for (const task of tasks) {
  test(`${task.id}: every text of generated examples round-trips through encode/decode`, () => {
    for (const split of ['train', 'ood'] as const) {
      for (const example of splitExamples(task, split, 40)) {
        for (const text of textsOf(example)) {
          const ids = tokenizer.encode(text);
          const decoded = tokenizer.decode(ids);
          assert.is(decoded, normalizeText(text));
          assert.equal(Array.from(tokenizer.encode(decoded)), Array.from(ids));
        }
      }
    }
  });
}

test.run();
