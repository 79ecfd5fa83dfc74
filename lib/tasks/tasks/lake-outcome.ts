// lake-outcome: a FrozenLake grid (ice, dark holes, a green goal), the agent and a move list; does
// the agent (a) reach the goal, (b) fall into a hole, or (c) end safe but not at the goal? A move
// off the edge leaves the agent in place (the FrozenLake rule, stated in the question). The three
// outcomes are drawn with equal chance, and each move list ends exactly when the walk does, so
// there is no question of what happens after the goal or a hole. One step per straight stretch.
import { Rng } from '../random.ts';
import type { Example, GenerateOptions, Task } from '../types.ts';
import {
  GRID_WORDS, LAKE_WORDS, Lake, MOVES, breadthFirst, cellsMovedBy, checkLevel, lakeScene, lakeStateSentence, neighbour,
  normaliseChoice, randomWalk, runSentence, stepsAlongRuns, walk, type Move,
} from './grid-world.ts';

export type LakeOutcome = 'goal' | 'hole' | 'safe';
const OUTCOME_LETTER: Record<LakeOutcome, string> = { goal: 'a', hole: 'b', safe: 'c' };
const OUTCOMES: readonly LakeOutcome[] = ['goal', 'hole', 'safe'];

/** Where the moves leave the agent (the walk stops in a hole or at the goal). */
export function outcomeOf(lake: Lake, moves: readonly Move[]): LakeOutcome {
  const { positions } = walk(lake, lake.start, moves, (cell) => lake.isTerminal(cell));
  const end = positions[positions.length - 1];
  return end === lake.goal ? 'goal' : lake.isHole(end) ? 'hole' : 'safe';
}

/** A random move list with the wanted outcome, or null when this lake cannot give one (a hole
 * out of reach) or it came out shorter than two moves. Before heading for the goal or a hole the
 * agent may wander a little, and wandering may press against the edge (after a move that way). */
function movesWithOutcome(rng: Rng, lake: Lake, outcome: LakeOutcome): Move[] | null {
  const staysSafe = (from: number, move: Move, to: number, previous: Move | null) =>
    !lake.isTerminal(to) && (to !== from || move === previous);
  if (outcome === 'safe') {
    const moves = randomWalk(rng, lake, lake.start, rng.int(lake.size - 1, 2 * lake.size - 1), staysSafe);
    return moves.length >= 2 ? moves : null;
  }
  const wander = randomWalk(rng, lake, lake.start, rng.int(0, 2), staysSafe);
  const { positions } = walk(lake, lake.start, wander);
  const from = positions[positions.length - 1];
  let moves: Move[];
  if (outcome === 'goal') {
    moves = [...wander, ...lake.safeRouteToGoal(from)!]; // the wander stays in the start's ice region, which reaches the goal
  } else {
    const overIce = breadthFirst(lake, from, (cell) => !lake.isTerminal(cell));
    const edges: [number, Move][] = [];
    for (let cell = 0; cell < lake.size * lake.size; cell++) {
      if (overIce.distance(cell) < 0) continue;
      for (const move of MOVES) {
        const next = neighbour(lake.size, cell, move);
        if (next !== null && lake.isHole(next)) edges.push([cell, move]);
      }
    }
    if (edges.length === 0) return null;
    const [brink, plunge] = rng.pick(edges);
    moves = [...wander, ...overIce.movesTo(brink)!, plunge];
  }
  return moves.length >= 2 ? moves : null;
}

export interface LakeOutcomePuzzle {
  readonly lake: Lake;
  /** ends exactly when the walk does: at the goal, in a hole, or (safe) anywhere else */
  readonly moves: readonly Move[];
}

/** The world behind an example (no pictures, no text): tests check it directly. */
export function lakeOutcomePuzzle(seed: number, level: number): LakeOutcomePuzzle {
  checkLevel('lake-outcome', level, 3);
  const rng = new Rng(seed, level);
  const wanted = rng.pick(OUTCOMES);
  for (;;) {
    const lake = Lake.generate(rng, level);
    const moves = movesWithOutcome(rng, lake, wanted);
    if (moves !== null) return { lake, moves };
  }
}

function generate(seed: number, level: number, options: GenerateOptions = {}): Example {
  const { lake, moves } = lakeOutcomePuzzle(seed, level);
  const { positions } = walk(lake, lake.start, moves);
  const answer = OUTCOME_LETTER[outcomeOf(lake, moves)];
  const scene = lakeScene(lake, options.size ?? 64);

  const { steps, stepDescriptions } = stepsAlongRuns(moves, positions, scene.render, (run, soFar, isLast) => {
    const at = soFar[soFar.length - 1];
    let text = runSentence(run, cellsMovedBy(run, soFar));
    if (isLast && lake.isHole(at)) text += ' and falls into a hole';
    if (isLast && at === lake.goal) text += ' and reaches the goal';
    return { text: `${text} .`, caption: scene.caption(soFar), description: lakeStateSentence(lake, at) };
  });

  return {
    taskId: 'lake-outcome',
    seed,
    level,
    question: `the red dot walks on a frozen lake : dark cells are holes and the green cell is the goal . it moves : ${moves.join(' ')} . a move off the edge leaves it in place . does it ( a ) reach the goal , ( b ) fall into a hole , or ( c ) stay safe but not at the goal ?`,
    image: scene.render([lake.start]),
    caption: scene.caption([lake.start]),
    steps,
    answer,
    verify: (answerText) => normaliseChoice(answerText) === answer,
    stepDescriptions,
  };
}

export const lakeOutcome: Task = {
  id: 'lake-outcome',
  description: 'FrozenLake grid and a move list: does the agent reach the goal (a), fall into a hole (b), or stay safe elsewhere (c)?',
  levels: { train: [3, 4, 5], ood: [7] },
  generate,
  vocabulary: () => [...GRID_WORDS, ...LAKE_WORDS, 'b', 'but', 'c', 'does', 'fall', 'falls', 'not', 'reach', 'safe', 'stay', 'walks'],
};
