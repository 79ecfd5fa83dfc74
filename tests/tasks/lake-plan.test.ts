import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MOVES, OPPOSITE, breadthFirst, neighbour, walk } from '../../lib/tasks/tasks/grid-world.ts';
import { lakePlan, lakePlanPuzzle } from '../../lib/tasks/tasks/lake-plan.ts';
import { SEEDS, allLevels, assertInVocabulary, assertStepsShowAgent, isMoveList, replaySteps } from './grid-world-helpers.ts';

function eachExample(check: (seed: number, level: number) => void): void {
  for (const level of allLevels(lakePlan)) for (const seed of SEEDS.slice(0, 30)) check(seed, level);
}

test('the gold plan reaches the goal over ice, in any usual spelling', () => {
  eachExample((seed, level) => {
    const example = lakePlan.generate(seed, level);
    assert.ok(isMoveList(example.answer));
    assert.ok(example.verify(example.answer));
    assert.ok(example.verify(example.answer.toUpperCase().split(' ').join(',') + ' .'));
  });
});

test('a plan through a hole fails, even though it would go on to the goal', () => {
  let tried = 0;
  eachExample((seed, level) => {
    const lake = lakePlanPuzzle(seed, level);
    const overIce = breadthFirst(lake, lake.start, (cell) => !lake.isTerminal(cell));
    for (let brink = 0; brink < level * level; brink++) {
      if (overIce.distance(brink) < 0) continue;
      const plunge = MOVES.find((move) => { const next = neighbour(level, brink, move); return next !== null && lake.isHole(next); });
      if (!plunge) continue;
      const hole = neighbour(level, brink, plunge)!;
      const onward = breadthFirst(lake, hole, () => true).movesTo(lake.goal)!; // ignoring holes
      const plan = [...overIce.movesTo(brink)!, plunge, ...onward];
      assert.ok(walk(lake, lake.start, plan).positions.at(-1) === lake.goal);
      assert.not.ok(lakePlan.generate(seed, level).verify(plan.join(' ')), plan.join(' '));
      tried++;
      return;
    }
  });
  assert.ok(tried > 50, `${tried}`);
});

test('another valid plan, with a detour (a step aside and back, or a push against the edge), passes', () => {
  let tried = 0;
  eachExample((seed, level) => {
    const lake = lakePlanPuzzle(seed, level);
    const plan = lake.safeRouteToGoal(lake.start)!;
    const route = walk(lake, lake.start, plan).positions;
    for (let i = 0; i < plan.length; i++) {
      const aside = MOVES.find((move) => move !== plan[i] && !lake.isTerminal(lake.step(route[i], move)));
      if (!aside) continue;
      const back = lake.step(route[i], aside) === route[i] ? [] : [OPPOSITE[aside]];
      const detour = [...plan.slice(0, i), aside, ...back, ...plan.slice(i)];
      assert.ok(lakePlan.generate(seed, level).verify(detour.join(' ')), detour.join(' '));
      tried++;
      return;
    }
  });
  assert.ok(tried > 50, `${tried}`);
});

test('a plan that stops short, moves on after reaching the goal, or has other words fails', () => {
  eachExample((seed, level) => {
    const example = lakePlan.generate(seed, level);
    const plan = example.answer.split(' ');
    assert.not.ok(example.verify(plan.slice(0, -1).join(' ')), 'stops short');
    // the walk ends at the goal, so any move after it makes the plan wrong
    for (const extra of MOVES) assert.not.ok(example.verify(`${example.answer} ${extra}`), `then ${extra}`);
    assert.not.ok(example.verify(''));
    assert.not.ok(example.verify(`${example.answer} stop`));
  });
});

test('replaying the steps reaches the goal; pictures and captions follow the agent', () => {
  eachExample((seed, level) => {
    const example = lakePlan.generate(seed, level);
    const lake = lakePlanPuzzle(seed, level);
    const replay = replaySteps(lake, lake.start, example);
    assert.is(replay.moves.join(' '), example.answer);
    assert.is(replay.cellsAfterSteps.at(-1), lake.goal);
    assertStepsShowAgent(example, level, lake.start, replay.cellsAfterSteps);
  });
});

test('every word is in the vocabulary', () => {
  for (const level of allLevels(lakePlan)) for (const seed of SEEDS) assertInVocabulary(lakePlan, lakePlan.generate(seed, level));
});

test.run();
