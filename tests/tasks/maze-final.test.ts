import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { walk } from '../../lib/tasks/tasks/grid-world.ts';
import { mazeFinal, mazeFinalPuzzle } from '../../lib/tasks/tasks/maze-final.ts';
import { SEEDS, allLevels, assertInVocabulary, assertStepsShowAgent, replaySteps } from './grid-world-helpers.ts';

test('the move list never walks through a wall', () => {
  for (const level of allLevels(mazeFinal)) {
    for (const seed of SEEDS) {
      const { maze, start, moves, positions } = mazeFinalPuzzle(seed, level);
      const result = walk(maze, start, moves);
      assert.is(result.outcome, 'done', `level ${level} seed ${seed}`);
      assert.equal(result.positions, positions);
    }
  }
});

test('four distinct lettered cells A-D, the start unlettered, exactly one at the end of the walk', () => {
  for (const level of allLevels(mazeFinal)) {
    for (const seed of SEEDS) {
      const { start, positions, labels } = mazeFinalPuzzle(seed, level);
      const end = positions[positions.length - 1];
      assert.equal([...labels.values()].sort(), ['A', 'B', 'C', 'D']);
      assert.is(labels.size, 4);
      assert.not.ok(labels.has(start));
      assert.ok(labels.has(end));
      assert.is(mazeFinal.generate(seed, level).answer, labels.get(end)!.toLowerCase());
    }
  }
});

test('the right letter passes in any usual spelling; the other letters fail', () => {
  for (const level of allLevels(mazeFinal)) {
    for (const seed of SEEDS.slice(0, 20)) {
      const example = mazeFinal.generate(seed, level);
      const letter = example.answer;
      for (const spelling of [letter, letter.toUpperCase(), `(${letter})`, `${letter}.`, ` ${letter} `]) assert.ok(example.verify(spelling), spelling);
      for (const wrong of ['a', 'b', 'c', 'd'].filter((other) => other !== letter)) assert.not.ok(example.verify(wrong), wrong);
      assert.not.ok(example.verify(''));
      assert.not.ok(example.verify('abcd'));
    }
  }
});

test('replaying the steps walks the question\'s moves to the lettered answer cell; pictures and captions follow', () => {
  for (const level of allLevels(mazeFinal)) {
    for (const seed of SEEDS.slice(0, 20)) {
      const example = mazeFinal.generate(seed, level);
      const { maze, start, moves, labels } = mazeFinalPuzzle(seed, level);
      const replay = replaySteps(maze, start, example);
      assert.equal(replay.moves, moves);
      assert.ok(example.question.includes(`it moves : ${moves.join(' ')} .`));
      const end = replay.cellsAfterSteps[replay.cellsAfterSteps.length - 1];
      assert.is(labels.get(end)?.toLowerCase(), example.answer);
      assertStepsShowAgent(example, level, start, replay.cellsAfterSteps);
      assert.is(example.stepDescriptions.length, example.steps.length);
    }
  }
});

test('answers are spread over the four letters', () => {
  const counts = new Map<string, number>();
  for (let seed = 0; seed < 400; seed++) {
    const answer = mazeFinal.generate(seed, mazeFinal.levels.train[seed % 3]).answer;
    counts.set(answer, (counts.get(answer) ?? 0) + 1);
  }
  for (const letter of ['a', 'b', 'c', 'd']) assert.ok((counts.get(letter) ?? 0) > 60, `${letter}: ${counts.get(letter)}`);
});

test('every word is in the vocabulary', () => {
  for (const level of allLevels(mazeFinal)) for (const seed of SEEDS) assertInVocabulary(mazeFinal, mazeFinal.generate(seed, level));
});

test('rendering at another size works and changes only the pictures', () => {
  const small = mazeFinal.generate(3, 5), large = mazeFinal.generate(3, 5, { size: 128 });
  assert.is(large.image.width, 128);
  assert.is(large.caption, small.caption);
  assert.is(large.answer, small.answer);
});

test.run();
