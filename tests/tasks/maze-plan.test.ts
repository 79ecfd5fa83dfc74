import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MOVES, OPPOSITE, breadthFirst, neighbour, walk, type Move } from '../../lib/tasks/tasks/grid-world.ts';
import { mazePlan, mazePlanPuzzle } from '../../lib/tasks/tasks/maze-plan.ts';
import { SEEDS, allLevels, assertInVocabulary, assertStepsShowAgent, isMoveList, replaySteps } from './grid-world-helpers.ts';

function eachExample(check: (seed: number, level: number) => void): void {
  for (const level of allLevels(mazePlan)) for (const seed of SEEDS.slice(0, 25)) check(seed, level);
}

test('the gold plan is a move list that reaches the goal, in any usual spelling', () => {
  eachExample((seed, level) => {
    const example = mazePlan.generate(seed, level);
    assert.ok(isMoveList(example.answer));
    assert.ok(example.verify(example.answer));
    assert.ok(example.verify(example.answer.toUpperCase().split(' ').join(', ') + '.'));
    assert.ok(example.verify(`  ${example.answer.split(' ').join('   ')} `));
  });
});

test('a shortcut through a wall fails, even though it ends at the goal', () => {
  let tried = 0;
  eachExample((seed, level) => {
    const { maze, start, goal, plan } = mazePlanPuzzle(seed, level);
    const route = walk(maze, start, plan).positions;
    // first cell on the route with a wall to a neighbour: walk there, go through, then on to the goal
    for (let i = 0; i < route.length - 1; i++) {
      const wallMove = MOVES.find((move) => neighbour(level, route[i], move) !== null && !maze.isOpen(route[i], move));
      if (!wallMove) continue;
      const beyond = neighbour(level, route[i], wallMove)!;
      const onward = beyond === goal ? [] : breadthFirst(maze, beyond, () => true).movesTo(goal)!;
      const cheat = [...plan.slice(0, i), wallMove, ...onward];
      assert.not.ok(mazePlan.generate(seed, level).verify(cheat.join(' ')), cheat.join(' '));
      tried++;
      return;
    }
  });
  assert.ok(tried > 50);
});

test('a move off the maze fails', () => {
  eachExample((seed, level) => {
    const { start } = mazePlanPuzzle(seed, level);
    const example = mazePlan.generate(seed, level);
    const outward = MOVES.find((move) => neighbour(level, start, move) === null);
    if (outward) assert.not.ok(example.verify(`${outward} ${example.answer}`));
  });
});

test('another valid plan, with a detour into a side corridor and back, passes', () => {
  let tried = 0;
  eachExample((seed, level) => {
    const { maze, start, plan } = mazePlanPuzzle(seed, level);
    const route = walk(maze, start, plan).positions;
    for (let i = 0; i < plan.length; i++) {
      const cameBy: Move | null = i > 0 ? OPPOSITE[plan[i - 1]] : null;
      const side = maze.openMoves(route[i]).find((move) => move !== plan[i] && move !== cameBy);
      if (!side) continue;
      const detour = [...plan.slice(0, i), side, OPPOSITE[side], ...plan.slice(i)];
      assert.ok(mazePlan.generate(seed, level).verify(detour.join(' ')), detour.join(' '));
      tried++;
      return;
    }
  });
  assert.ok(tried > 50);
});

test('a plan that stops short, overshoots the goal, or has other words fails', () => {
  eachExample((seed, level) => {
    const { maze, goal, plan } = mazePlanPuzzle(seed, level);
    const example = mazePlan.generate(seed, level);
    assert.not.ok(example.verify(plan.slice(0, -1).join(' ')), 'stops short');
    const out = maze.openMoves(goal)[0];
    assert.not.ok(example.verify([...plan, out, OPPOSITE[out]].join(' ')), 'walks on past the goal');
    assert.not.ok(example.verify(''));
    assert.not.ok(example.verify(`${example.answer} please`));
    assert.not.ok(example.verify(`go ${example.answer}`));
  });
});

test('replaying the steps reaches the goal; pictures and captions follow the agent', () => {
  eachExample((seed, level) => {
    const example = mazePlan.generate(seed, level);
    const { maze, start, goal, plan } = mazePlanPuzzle(seed, level);
    const replay = replaySteps(maze, start, example);
    assert.equal(replay.moves, plan);
    assert.is(replay.cellsAfterSteps[replay.cellsAfterSteps.length - 1], goal);
    assert.ok(example.verify(replay.moves.join(' ')));
    assertStepsShowAgent(example, level, start, replay.cellsAfterSteps);
    assert.ok(example.steps[example.steps.length - 1].text.endsWith('reaches the goal .'));
  });
});

test('every word is in the vocabulary', () => {
  for (const level of allLevels(mazePlan)) for (const seed of SEEDS) assertInVocabulary(mazePlan, mazePlan.generate(seed, level));
});

test.run();
