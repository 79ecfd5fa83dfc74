// The machinery the four grid-world tasks share: perfect mazes, lakes, move parsing, layout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '../../lib/tasks/random.ts';
import {
  Lake, MOVES, Maze, OPPOSITE, breadthFirst, gridLayout, neighbour, normaliseChoice, parseMoves,
  planReachesGoal, runsOf,
} from '../../lib/tasks/tasks/grid-world.ts';

test('mazes are perfect: connected, cells - 1 passages, openings match on both sides, closed border', () => {
  for (let size = 3; size <= 9; size++) {
    for (let seed = 0; seed < 40; seed++) {
      const maze = Maze.generate(new Rng(seed), size);
      let passages = 0;
      for (let cell = 0; cell < size * size; cell++) {
        for (const move of MOVES) {
          const next = neighbour(size, cell, move);
          if (next === null) { assert.not.ok(maze.isOpen(cell, move), 'border opening'); continue; }
          assert.is(maze.isOpen(cell, move), maze.isOpen(next, OPPOSITE[move]), 'one-sided opening');
          if (maze.isOpen(cell, move)) passages++;
        }
      }
      assert.is(passages / 2, size * size - 1, `size ${size} seed ${seed}: a spanning tree has cells - 1 passages`);
      const search = breadthFirst(maze, 0, () => true);
      for (let cell = 0; cell < size * size; cell++) assert.ok(search.distance(cell) >= 0, `cell ${cell} unreachable`);
    }
  }
});

test('lakes: start and goal on ice, far enough apart, a safe route exists, about a fifth holes', () => {
  for (const size of [3, 4, 5, 7]) {
    for (let seed = 0; seed < 100; seed++) {
      const lake = Lake.generate(new Rng(seed), size);
      assert.is.not(lake.start, lake.goal);
      assert.not.ok(lake.isHole(lake.start) || lake.isHole(lake.goal));
      const route = lake.safeRouteToGoal(lake.start);
      assert.ok(route && planReachesGoal(lake, lake.start, lake.goal, route, (cell) => lake.isHole(cell)));
      const holes = lake.holes().length;
      assert.ok(holes >= Math.round(size * size * 0.15) && holes <= Math.round(size * size * 0.25), `${holes} holes`);
    }
  }
});

test('a lake move off the edge keeps the agent in place; a maze wall blocks the move', () => {
  const lake = Lake.generate(new Rng(1), 4);
  assert.is(lake.step(0, 'up'), 0);
  assert.is(lake.step(0, 'left'), 0);
  const maze = Maze.generate(new Rng(1), 4);
  assert.is(maze.step(0, 'up'), null);
});

test('parseMoves: tolerant of case, commas, periods, spaces; rejects anything else', () => {
  assert.equal(parseMoves('Right, right DOWN.'), ['right', 'right', 'down']);
  assert.equal(parseMoves('  up,down   left '), ['up', 'down', 'left']);
  assert.is(parseMoves(''), null);
  assert.is(parseMoves(' , . '), null);
  assert.is(parseMoves('up jump'), null);
  assert.is(parseMoves('upp'), null);
  assert.is(parseMoves('u d'), null);
});

test('normaliseChoice: B, (b), b., " b " all read as b', () => {
  for (const text of ['b', 'B', '(b)', 'b.', ' b ', '(B).']) assert.is(normaliseChoice(text), 'b');
  assert.is.not(normaliseChoice('ab'), 'b');
});

test('runsOf groups straight stretches', () => {
  assert.equal(runsOf(['up', 'up', 'left', 'up']).map((run) => [run.move, run.first, run.length]), [['up', 0, 2], ['left', 2, 1], ['up', 3, 1]]);
});

test('layout: an 8x8 maze at 64 px has 7 px cells with 1 px lines, centred', () => {
  const layout = gridLayout(64, 8);
  assert.is(layout.cellPx, 7);
  assert.ok(layout.x0 >= 0 && layout.x0 + 8 * 7 + 1 <= 64);
  assert.throws(() => gridLayout(20, 8), /too small/);
});

test.run();
