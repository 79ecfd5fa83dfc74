import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { walk } from '../../lib/tasks/tasks/grid-world.ts';
import { lakeOutcome, lakeOutcomePuzzle, outcomeOf } from '../../lib/tasks/tasks/lake-outcome.ts';
import { SEEDS, allLevels, assertInVocabulary, assertStepsShowAgent, replaySteps } from './grid-world-helpers.ts';

const LETTER = { goal: 'a', hole: 'b', safe: 'c' } as const;

test('the three outcomes all occur, in roughly equal shares, at every level', () => {
  for (const level of allLevels(lakeOutcome)) {
    const counts = { a: 0, b: 0, c: 0 };
    for (let seed = 0; seed < 300; seed++) counts[lakeOutcome.generate(seed, level).answer as 'a' | 'b' | 'c']++;
    for (const [letter, count] of Object.entries(counts)) assert.ok(count > 70, `level ${level}: ${letter} ${count} / 300`);
  }
});

test('the move list ends exactly when the walk does, and the answer is its outcome', () => {
  for (const level of allLevels(lakeOutcome)) {
    for (const seed of SEEDS) {
      const { lake, moves } = lakeOutcomePuzzle(seed, level);
      assert.ok(moves.length >= 2);
      assert.is(walk(lake, lake.start, moves, (cell) => lake.isTerminal(cell)).outcome, 'done', 'goal or hole before the last move');
      assert.is(lakeOutcome.generate(seed, level).answer, LETTER[outcomeOf(lake, moves)]);
    }
  }
});

test('some move lists press against the edge, and the step says so', () => {
  let bumps = 0;
  for (const seed of SEEDS) {
    const { lake, moves } = lakeOutcomePuzzle(seed, 4);
    const { positions } = walk(lake, lake.start, moves);
    if (positions.some((cell, i) => i > 0 && cell === positions[i - 1])) {
      bumps++;
      assert.ok(lakeOutcome.generate(seed, 4).steps.some((step) => step.text.includes('bumps into the edge')));
    }
  }
  assert.ok(bumps > 3, `${bumps} bumps`);
});

test('the right letter passes in any usual spelling; the other letters fail', () => {
  for (const level of allLevels(lakeOutcome)) {
    for (const seed of SEEDS.slice(0, 20)) {
      const example = lakeOutcome.generate(seed, level);
      const letter = example.answer;
      for (const spelling of [letter, letter.toUpperCase(), `(${letter})`, `${letter}.`]) assert.ok(example.verify(spelling), spelling);
      for (const wrong of ['a', 'b', 'c', 'd'].filter((other) => other !== letter)) assert.not.ok(example.verify(wrong), wrong);
      assert.not.ok(example.verify(''));
    }
  }
});

test('replaying the steps ends where the move list does; pictures and captions follow the agent', () => {
  for (const level of allLevels(lakeOutcome)) {
    for (const seed of SEEDS.slice(0, 25)) {
      const example = lakeOutcome.generate(seed, level);
      const { lake, moves } = lakeOutcomePuzzle(seed, level);
      assert.ok(example.question.includes(`it moves : ${moves.join(' ')} .`));
      // step sentences report the cells really moved, so the replay skips the edge bumps
      const replay = replaySteps(lake, lake.start, example);
      const end = walk(lake, lake.start, moves).positions.at(-1);
      assert.is(replay.cellsAfterSteps.at(-1), end);
      assert.is(LETTER[outcomeOf(lake, replay.moves)], example.answer);
      assertStepsShowAgent(example, level, lake.start, replay.cellsAfterSteps);
      const lastText = example.steps.at(-1)!.text;
      assert.is(lastText.includes('falls into a hole'), example.answer === 'b');
      assert.is(lastText.includes('reaches the goal'), example.answer === 'a');
    }
  }
});

test('every word is in the vocabulary', () => {
  for (const level of allLevels(lakeOutcome)) for (const seed of SEEDS) assertInVocabulary(lakeOutcome, lakeOutcome.generate(seed, level));
});

test.run();
