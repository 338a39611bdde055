/// MinAtar Seaquest and Space Invaders against the reference rules (seaquest.py, space_invaders.py):
/// hand-built states stepped once with exact outcomes, the games' random draws, sticky actions, action
/// sets, difficulty ramping, random-policy scores, determinism and frames.
module Prunerl.Tests.MinAtarSeaquestSpaceInvadersTests

open System
open System.IO
open Expecto
open Prunerl.Agents.Envs
open Prunerl.Agents.Envs.MinAtar
open Prunerl.Agents.Runtime

// Full action set indices (the reference's order).
let private noop, left, up, right, down, fire = 0, 1, 2, 3, 4, 5

let private options sticky ramping minimal =
    EnvironmentOptions(StickyActionProbability = sticky, DifficultyRamping = ramping, MinimalActionSet = minimal)

/// The set cells of the current observation as (channel, y, x).
let private cells (game: Prunerl.Agents.Envs.Environment) =
    let o = game.Observation.ToArray()
    set [ for i in 0 .. o.Length - 1 do if o[i] <> 0f then i / 100, i / 10 % 10, i % 10 ]

let private inChannel channel game = cells game |> Set.filter (fun (c, _, _) -> c = channel)

/// Rows 0 to 3, columns 2 to 7: a fresh wave of aliens.
let private freshWave = [ for y in 0..3 do for x in 2..7 -> y, x ]

let private at channel (points: (int * int) list) = points |> List.map (fun (y, x) -> channel, y, x) |> set

/// A Seaquest with nothing on the board and no spawns coming: a blank page for hand-built states.
let private calmSeaquest ramping =
    let game = new Seaquest(options 0.0 ramping false)
    game.Reset(0UL).Length |> ignore
    game.EnemySpawnTimer <- 1000
    game.DiverSpawnTimer <- 1000
    game

/// A calm Seaquest whose sub, one row down with the given divers and oxygen, comes up.
let private surfaceWith ramping divers oxygen =
    let game = calmSeaquest ramping
    game.PlacePlayer(x = 5, y = 1, facingRight = false)
    game.DiverCount <- divers
    game.Oxygen <- oxygen
    game.Surfaced <- false
    game, game.Step up

/// A Space Invaders with no aliens, and their march and fire far off.
let private calmInvaders ramping =
    let game = new SpaceInvaders(options 0.0 ramping false)
    game.Reset(0UL).Length |> ignore
    game.ClearAliens()
    game.AlienMoveTimer <- 1000
    game.AlienShotTimer <- 1000
    game

/// A test that a uniformly random policy (all six actions, sticky 0.1) scores the reference's mean
/// episode return within the tolerance, over the given number of episodes.
let private randomPolicyScores id episodes (reference: float) tolerance =
    test (sprintf "a random policy scores about the reference's %.2f per episode" reference) {
        let game = EnvironmentRegistry.Create id
        game.Reset(7UL).Length |> ignore
        let mutable policy = EnvRandom 8UL
        let returns =
            Array.init episodes (fun _ ->
                let mutable total = 0.0
                let mutable over = false
                while not over do
                    let result = game.Step(policy.NextInt 6)
                    total <- total + float result.Reward
                    over <- result.Done
                game.Reset().Length |> ignore
                total)
        let mean = Array.average returns
        let se = sqrt (Array.averageBy (fun r -> (r - mean) ** 2.0) returns / float episodes)
        Expect.isTrue (abs (mean - reference) < tolerance) (sprintf "mean %.3f (se %.4f)" mean se)
    }

/// Observations, rewards and ends of a seeded random run, for determinism checks.
let private trajectory id seed steps =
    let game = EnvironmentRegistry.Create id
    game.Reset(seed).Length |> ignore
    let mutable policy = EnvRandom 99UL
    [ for _ in 1..steps do
        let result = game.Step(policy.NextInt 6)
        yield game.Observation.ToArray(), result.Reward, result.Done
        if result.Done then game.Reset().Length |> ignore ]

let private vectorTrajectory id seed steps =
    let vector = EnvironmentRegistry.CreateVector(id, 8)
    vector.Reset seed
    let mutable policy = EnvRandom 99UL
    [ for _ in 1..steps do
        vector.Step(ReadOnlySpan(Array.init 8 (fun _ -> policy.NextInt 6)))
        yield vector.Observations.ToArray(), vector.Rewards.ToArray(), vector.EpisodeEnded.ToArray() ]

let private seaquestTests =
    testList "seaquest" [
        test "channels in a hand-built state after one turn: sub, gauges, bullets, enemies, divers and trails" {
            let game = calmSeaquest true
            game.PlacePlayer(x = 4, y = 5, facingRight = true)
            game.DiverCount <- 2
            game.PlaceFish(x = 2, y = 3, movingRight = true, moveTimer = 3)          // waits: stays at x 2
            game.PlaceFish(x = 9, y = 2, movingRight = true, moveTimer = 0)          // moves off the right edge
            game.PlaceEnemySub(x = 7, y = 7, movingRight = false, moveTimer = 2, shotTimer = 0) // fires
            game.PlaceDiver(x = 0, y = 1, movingRight = true, moveTimer = 0)         // moves to x 1
            game.PlaceFriendlyBullet(x = 5, y = 8, movingRight = false)              // moves to x 4
            let result = game.Step noop
            Expect.equal (result.Reward, result.Terminated) (0f, false) "nothing struck"
            let expected =
                Set.unionMany [
                    at Seaquest.SubFront [ 5, 4 ]
                    at Seaquest.SubBack [ 5, 3 ]                                      // behind, facing right
                    at Seaquest.OxygenGauge [ for x in 0..8 -> 9, x ]                  // 199 * 10 / 200 = 9 cells
                    at Seaquest.DiverGauge [ 9, 7; 9, 8 ]                               // columns 9 - 2 to 8
                    at Seaquest.EnemyFish [ 3, 2 ]
                    at Seaquest.EnemySub [ 7, 7 ]
                    at Seaquest.EnemyBullet [ 7, 6 ]                                    // fired and moved on at once
                    at Seaquest.Diver [ 1, 1 ]
                    at Seaquest.FriendlyBullet [ 8, 4 ]
                    at Seaquest.Trail [ 3, 1; 7, 8; 1, 0 ]                              // behind fish, sub and diver
                ]
            Expect.equal (cells game) expected "every set cell"
            Expect.equal game.FishCount 1 "the fish that left the screen is gone"
            Expect.equal game.Oxygen 199 "one breath under water"
        }

        test "oxygen drains one per turn under water, not at the surface; the turn after it reaches 0 ends the game" {
            let surface = calmSeaquest true
            for _ in 1..10 do Expect.isFalse (surface.Step noop).Done "staying at the surface is safe"
            Expect.equal surface.Oxygen 200 "no oxygen used at the surface"
            Expect.equal (inChannel Seaquest.OxygenGauge surface) (at Seaquest.OxygenGauge [ for x in 0..9 -> 9, x ]) "a full gauge"
            let game = calmSeaquest true
            game.PlacePlayer(x = 5, y = 3, facingRight = false)
            game.Oxygen <- 3
            for left in [ 2; 1; 0 ] do
                Expect.isFalse (game.Step noop).Done "still breathing"
                Expect.equal game.Oxygen left "one less"
            Expect.isEmpty (inChannel Seaquest.OxygenGauge game) "an empty gauge"
            let last = game.Step noop
            Expect.isTrue last.Terminated "out of oxygen"
            Expect.isFalse last.Truncated "terminated, not truncated"
        }

        test "surfacing with six divers: a bonus of one per tenth of oxygen left, full oxygen, divers -1 (as the reference), harder enemies" {
            let game, result = surfaceWith true 6 150
            Expect.equal (result.Reward, result.Terminated) (7f, false) "150 * 10 / 200 = 7"
            Expect.equal (game.Oxygen, game.DiverCount) (200, -1) "oxygen refilled; the reference takes one diver off after emptying"
            Expect.equal (game.EnemySpawnSpeed, game.MoveInterval, game.DifficultyRamp) (19, 5, 1) "spawns sooner; moves speed up on odd ramps only"
            Expect.isEmpty (inChannel Seaquest.DiverGauge game) "no divers shown"
            Expect.equal (inChannel Seaquest.OxygenGauge game).Count 10 "a full gauge"
            // Down and up again at a count of -1: no bonus, not the end (the reference's count is not 0).
            Expect.isFalse (game.Step down).Done "diving"
            let again = game.Step up
            Expect.equal (again.Reward, again.Terminated) (0f, false) "a second surfacing"
            Expect.equal (game.EnemySpawnSpeed, game.MoveInterval, game.DifficultyRamp, game.DiverCount) (18, 4, 2, -2) "second ramp"
        }

        test "surfacing with fewer than six divers refills oxygen for one diver; without ramping nothing speeds up" {
            let game, result = surfaceWith false 3 20
            Expect.equal (result.Reward, result.Terminated) (0f, false) "no bonus"
            Expect.equal (game.Oxygen, game.DiverCount) (200, 2) "refilled, one diver off"
            Expect.equal (game.EnemySpawnSpeed, game.MoveInterval, game.DifficultyRamp) (20, 5, 0) "no ramping"
            Expect.equal (inChannel Seaquest.DiverGauge game) (at Seaquest.DiverGauge [ 9, 7; 9, 8 ]) "two divers shown"
        }

        test "surfacing with no divers ends the game" {
            let game = new Seaquest(options 0.0 true false)
            game.Reset(1UL).Length |> ignore
            Expect.isFalse (game.Step down).Done "diving from the start"
            let result = game.Step up
            Expect.equal (result.Reward, result.Terminated) (0f, true) "back up empty-handed"
        }

        test "a bullet striking a fish or an enemy sub gives +1 and removes both; so does an enemy moving onto a bullet" {
            let game = calmSeaquest true
            game.PlacePlayer(x = 3, y = 4, facingRight = true)
            game.PlaceFish(x = 5, y = 4, movingRight = false, moveTimer = 5)
            Expect.equal (game.Step fire).Reward 0f "the bullet leaves the sub and moves one cell"
            Expect.equal (inChannel Seaquest.FriendlyBullet game) (at Seaquest.FriendlyBullet [ 4, 4 ]) "ahead of the sub"
            Expect.equal (game.Step noop).Reward 1f "struck"
            Expect.equal game.FishCount 0 "fish gone"
            Expect.isEmpty (inChannel Seaquest.FriendlyBullet game) "bullet gone"

            let subs = calmSeaquest true
            subs.PlacePlayer(x = 3, y = 4, facingRight = false)
            subs.PlaceEnemySub(x = 1, y = 4, movingRight = true, moveTimer = 5, shotTimer = 5)
            Expect.equal ((subs.Step fire).Reward, (subs.Step noop).Reward) (0f, 1f) "shot to the left"
            Expect.equal subs.EnemySubCount 0 "sub gone"

            let rammed = calmSeaquest true
            rammed.PlacePlayer(x = 1, y = 8, facingRight = false)
            rammed.PlaceFriendlyBullet(x = 4, y = 4, movingRight = true)
            rammed.PlaceFish(x = 6, y = 4, movingRight = false, moveTimer = 0)
            Expect.equal (rammed.Step noop).Reward 1f "bullet to 5, fish to 5"
            Expect.equal rammed.FishCount 0 "fish gone"
            Expect.isEmpty (inChannel Seaquest.FriendlyBullet rammed) "bullet gone"
        }

        test "an enemy sub shot as it moves still fires that turn (the reference goes on with the removed sub)" {
            let game = calmSeaquest true
            game.PlacePlayer(x = 1, y = 8, facingRight = false)
            game.PlaceFriendlyBullet(x = 4, y = 4, movingRight = true)
            game.PlaceEnemySub(x = 6, y = 4, movingRight = false, moveTimer = 0, shotTimer = 0)
            Expect.equal (game.Step noop).Reward 1f "bullet to 5, sub to 5"
            Expect.equal (cells game |> Set.filter (fun (c, _, _) -> c <> Seaquest.OxygenGauge))
                (Set.unionMany [ at Seaquest.SubFront [ 8, 1 ]; at Seaquest.SubBack [ 8, 2 ]; at Seaquest.EnemyBullet [ 4, 4 ] ])
                "no sub, but its bullet, fired at 5 and moved on to 4"
        }

        test "bullets leave their list as Python's list.remove does: the first EQUAL one, which can be an older twin" {
            // Bullets [A (6, right); C (8, left); B (5, right)], walked from the end: B moves onto A's cell
            // and value, strikes the fish there, and remove() takes A out; B, now at index 1, moves again.
            // A fish then swims onto the cell where B and C now stand and takes the first: C.
            let game = calmSeaquest true
            game.PlacePlayer(x = 1, y = 8, facingRight = false)
            game.PlaceFriendlyBullet(x = 6, y = 4, movingRight = true)
            game.PlaceFriendlyBullet(x = 8, y = 4, movingRight = false)
            game.PlaceFriendlyBullet(x = 5, y = 4, movingRight = true)
            game.PlaceFish(x = 6, y = 4, movingRight = true, moveTimer = 5)
            game.PlaceFish(x = 8, y = 4, movingRight = false, moveTimer = 0)
            Expect.equal (game.Step noop).Reward 2f "both fish"
            game.Step noop |> ignore
            Expect.equal (inChannel Seaquest.FriendlyBullet game) (at Seaquest.FriendlyBullet [ 4, 8 ]) "the survivor heads right (by identity it would be C, heading left)"
        }

        test "an enemy, an enemy bullet or moving onto an enemy ends the game" {
            let ends (setup: Seaquest -> unit) (action: int) =
                let game = calmSeaquest true
                game.PlacePlayer(x = 3, y = 3, facingRight = false)
                setup game
                (game.Step action).Terminated
            Expect.isTrue (ends (fun g -> g.PlaceFish(x = 4, y = 3, movingRight = false, moveTimer = 0)) noop) "a fish swims into the sub"
            Expect.isTrue (ends (fun g -> g.PlaceEnemySub(x = 2, y = 3, movingRight = true, moveTimer = 0, shotTimer = 5)) noop) "an enemy sub runs into it"
            Expect.isTrue (ends (fun g -> g.PlaceEnemyBullet(x = 4, y = 3, movingRight = false)) noop) "an enemy bullet hits it"
            Expect.isTrue (ends (fun g -> g.PlaceFish(x = 2, y = 3, movingRight = true, moveTimer = 5)) left) "the sub moves onto a fish"
            Expect.isFalse (ends (fun g -> g.PlaceFish(x = 5, y = 3, movingRight = false, moveTimer = 5)) noop) "a fish two cells off"
        }

        test "moving onto a diver picks it up, at most six" {
            let game = calmSeaquest true
            game.PlacePlayer(x = 4, y = 4, facingRight = false)
            game.PlaceDiver(x = 5, y = 4, movingRight = false, moveTimer = 0)
            game.Step noop |> ignore
            Expect.equal (game.DiverCount, game.DiverListCount) (1, 0) "the diver swam onto the sub"
            Expect.equal (inChannel Seaquest.DiverGauge game) (at Seaquest.DiverGauge [ 9, 8 ]) "one diver shown"
            let full = calmSeaquest true
            full.PlacePlayer(x = 4, y = 4, facingRight = false)
            full.DiverCount <- 6
            full.PlaceDiver(x = 4, y = 4, movingRight = false, moveTimer = 3)
            full.Step noop |> ignore
            Expect.equal (full.DiverCount, full.DiverListCount) (6, 1) "no room"
        }

        test "the first enemy comes on turn 21 and the first diver on turn 31, at an edge of rows 1 to 8; one enemy in three is a sub" {
            let games = 2000
            let mutable subs = 0
            let mutable fromLeft = 0
            let rows = Array.zeroCreate 10
            for seed in 1..games do
                let game = new Seaquest(options 0.0 true false)
                game.Reset(uint64 seed).Length |> ignore
                for _ in 1..20 do game.Step noop |> ignore
                Expect.equal (game.FishCount + game.EnemySubCount) 0 "nobody before turn 21"
                game.Step noop |> ignore
                let enemy = cells game |> Set.filter (fun (c, _, _) -> c = Seaquest.EnemyFish || c = Seaquest.EnemySub) |> Seq.exactlyOne
                let channel, y, x = enemy
                if channel = Seaquest.EnemySub then subs <- subs + 1
                if x = 0 then fromLeft <- fromLeft + 1 else Expect.equal x 9 "an edge"
                rows[y] <- rows[y] + 1
                for _ in 22..30 do game.Step noop |> ignore
                Expect.equal game.DiverListCount 0 "no diver before turn 31"
                game.Step noop |> ignore
                let (_, dy, dx) = inChannel Seaquest.Diver game |> Seq.exactlyOne
                Expect.isTrue ((dx = 0 || dx = 9) && dy >= 1 && dy <= 8) "a diver at an edge"
            // Binomial standard deviations: subs ~ 21, sides ~ 22, rows ~ 15; about 5 either side.
            Expect.isTrue (abs (subs - games / 3) < 100) (sprintf "%d subs in %d" subs games)
            Expect.isTrue (abs (fromLeft - games / 2) < 110) (sprintf "%d from the left in %d" fromLeft games)
            Expect.equal (rows[0], rows[9]) (0, 0) "never the surface or the gauge row"
            for y in 1..8 do Expect.isTrue (abs (rows[y] - games / 8) < 80) (sprintf "rows %A" rows)
        }

        // se ~ 0.006; measured here 0.098 over 60k episodes.
        randomPolicyScores "minatar/seaquest" 4000 0.10 0.03
    ]

let private invadersTests =
    testList "space invaders" [
        test "shooting an alien gives +1 and removes it and the bullet" {
            let game = calmInvaders true
            game.PlaceAlien(y = 7, x = 4)
            game.PlaceAlien(y = 0, x = 0)
            game.CannonPosition <- 4
            Expect.equal (game.Step fire).Reward 0f "fired"
            Expect.equal (inChannel SpaceInvaders.FriendlyBullet game) (at SpaceInvaders.FriendlyBullet [ 8, 4 ]) "one row up at once"
            Expect.equal (game.Step noop).Reward 1f "struck"
            Expect.equal (cells game)
                (Set.unionMany [ at SpaceInvaders.Cannon [ 9, 4 ]; at SpaceInvaders.Alien [ 0, 0 ]; at SpaceInvaders.AlienLeft [ 0, 0 ] ])
                "the other alien, marching left, and the cannon"
        }

        test "an enemy bullet reaching the cannon's cell ends the game; one leaving the bottom row does not" {
            let ends (setup: SpaceInvaders -> unit) (action: int) =
                let game = calmInvaders true
                game.PlaceAlien(y = 0, x = 0)
                game.CannonPosition <- 5
                setup game
                (game.Step action).Terminated
            Expect.isTrue (ends (fun g -> g.PlaceEnemyBullet(y = 8, x = 5)) noop) "falls onto the cannon"
            Expect.isTrue (ends (fun g -> g.PlaceEnemyBullet(y = 8, x = 4)) left) "the cannon moves under it"
            Expect.isFalse (ends (fun g -> g.PlaceEnemyBullet(y = 9, x = 4)) left) "gone before the cannon gets there"
            Expect.isFalse (ends (fun g -> g.PlaceEnemyBullet(y = 7, x = 5)) noop) "still a row above"
        }

        test "aliens reaching the cannon, or stepping down from the bottom row, end the game" {
            let play (aliens: (int * int) list) moveTimer =
                let game = calmInvaders true
                for y, x in aliens do game.PlaceAlien(y, x)
                game.CannonPosition <- 5
                game.AlienMoveTimer <- moveTimer
                let result = game.Step noop
                result.Terminated, game
            let ended, game = play [ 8, 5; 8, 0 ] 0
            Expect.isTrue ended "stepped down onto the cannon"
            Expect.equal (inChannel SpaceInvaders.AlienRight game) (at SpaceInvaders.AlienRight [ 9, 5; 9, 0 ]) "down a row, turned right"
            let ended, game = play [ 9, 0 ] 0
            Expect.isTrue ended "stepping down from the bottom row"
            Expect.equal (inChannel SpaceInvaders.Alien game) (at SpaceInvaders.Alien [ 0, 0 ]) "which wraps to the top (numpy's roll)"
            Expect.isTrue (fst (play [ 9, 6 ] 0)) "marching sideways onto the cannon"
            Expect.isTrue (fst (play [ 9, 5 ] 1000)) "standing on the cannon's cell"
            let ended, game = play [ 9, 7 ] 0
            Expect.isFalse ended "on the bottom row beside the cannon"
            Expect.equal game.AlienMoveTimer 0 "a lone alien marches every turn"
        }

        test "the alien nearest the cannon fires from its cell every 10 turns (the lowest in its column; of equals, the left)" {
            let fired (aliens: (int * int) list) =
                let game = calmInvaders true
                for y, x in aliens do game.PlaceAlien(y, x)
                game.CannonPosition <- 5
                game.AlienShotTimer <- 0
                game.Step noop |> ignore
                Expect.equal game.AlienShotTimer 9 "next shot in 10 turns"
                inChannel SpaceInvaders.EnemyBullet game
            Expect.equal (fired [ 2, 3; 5, 3; 1, 6 ]) (at SpaceInvaders.EnemyBullet [ 1, 6 ]) "column 6 is nearest"
            Expect.equal (fired [ 3, 4; 6, 4; 7, 6 ]) (at SpaceInvaders.EnemyBullet [ 6, 4 ]) "columns 4 and 6 tie: the left, its lowest"
        }

        test "a cleared wave is replaced; with ramping the new one marches a turn faster" {
            let play ramping =
                let game = calmInvaders ramping
                game.CannonPosition <- 9
                game.PlaceAlien(y = 5, x = 3)
                game.PlaceFriendlyBullet(y = 6, x = 3)
                game.AlienMoveTimer <- 3
                let result = game.Step noop
                Expect.equal (result.Reward, result.Terminated) (1f, false) "the last alien shot"
                Expect.equal (inChannel SpaceInvaders.Alien game) (at SpaceInvaders.Alien freshWave) "a fresh wave"
                // Turns at which the block moves: the first after the old timer, then every interval.
                let moves =
                    [ let mutable before = inChannel SpaceInvaders.Alien game
                      for turn in 1..30 do
                          game.Step noop |> ignore
                          let now = inChannel SpaceInvaders.Alien game
                          if now <> before then yield turn
                          before <- now ]
                game.EnemyMoveInterval, game.DifficultyRamp, moves[1] - moves[0]
            Expect.equal (play true) (11, 1, 11) "interval 12 -> 11"
            Expect.equal (play false) (12, 0, 12) "unchanged without ramping"
        }

        test "fewer aliens march faster: one alien moves every turn" {
            let game = calmInvaders true
            game.PlaceAlien(y = 0, x = 5)
            game.AlienMoveTimer <- 0
            let path = [ for _ in 1..3 -> game.Step noop |> ignore; inChannel SpaceInvaders.Alien game ]
            Expect.equal path [ at SpaceInvaders.Alien [ 0, 4 ]; at SpaceInvaders.Alien [ 0, 3 ]; at SpaceInvaders.Alien [ 0, 2 ] ] "a cell a turn"
        }

        test "the opening position" {
            let game = new SpaceInvaders(options 0.1 true false)
            game.Reset(3UL).Length |> ignore
            Expect.equal (cells game)
                (Set.unionMany [ at SpaceInvaders.Cannon [ 9, 5 ]; at SpaceInvaders.Alien freshWave; at SpaceInvaders.AlienLeft freshWave ])
                "cannon in column 5, 24 aliens heading left"
        }

        // se ~ 0.04; measured here 2.835 over 60k episodes.
        randomPolicyScores "minatar/space_invaders" 3000 2.86 0.22
    ]

let private sharedTests =
    testList "both" [
        test "action sets: Space Invaders' minimal n, l, r, f; Seaquest uses all six; full sets are six" {
            let count (game: Prunerl.Agents.Envs.Environment) = (game.ActionSpace :?> DiscreteSpace).Count
            let minimal = new SpaceInvaders(options 0.1 true true)
            Expect.equal (count minimal) 4 "Space Invaders minimal"
            Expect.equal [ for i in 0..3 -> minimal.ActionAt i ] [ MinAtarAction.NoOp; MinAtarAction.Left; MinAtarAction.Right; MinAtarAction.Fire ] "n, l, r, f"
            Expect.equal (count (new SpaceInvaders(options 0.1 true false))) 6 "Space Invaders full"
            Expect.equal (count (new Seaquest(options 0.1 true true))) 6 "Seaquest minimal"
            Expect.equal (count (new Seaquest(options 0.1 true false))) 6 "Seaquest full"
            Expect.equal (minimal.ObservationSpace.Size, (new Seaquest(options 0.1 true false)).ObservationSpace.Size) (600, 1000) "[C, 10, 10]"
            minimal.Reset(0UL).Length |> ignore
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> minimal.Step 4 |> ignore) "4 is outside the minimal set"
        }

        test "sticky actions: the previous action repeats one time in ten; it starts as no-op" {
            // The cannon shows which action ran: always choose the opposite of the last one that ran, so a
            // step that moves the old way is a repeat. Recentre near the walls and after an episode ends.
            let repeats sticky =
                let game = new SpaceInvaders(options sticky true true)
                game.Reset(5UL).Length |> ignore
                let mutable last = 0 // the cannon's last move: -1, +1, or 0 before any
                let mutable repeated = 0
                let steps = 20_000
                for _ in 1..steps do
                    let before = game.CannonPosition
                    let result = game.Step(if last < 0 then 2 else 1) // minimal set: 1 left, 2 right
                    let moved = game.CannonPosition - before
                    if moved = last then repeated <- repeated + 1
                    last <- moved
                    if result.Done || game.CannonPosition <= 1 || game.CannonPosition >= 8 then game.Reset().Length |> ignore
                float repeated / float steps
            let rate = repeats 0.1
            // sd of the rate ~ 0.0021.
            Expect.isTrue (abs (rate - 0.1) < 0.011) (sprintf "repeat rate %.4f" rate)
            Expect.equal (repeats 0.0) 0.0 "never without stickiness"
            let stuck = new SpaceInvaders(options 1.0 true true)
            stuck.Reset(0UL).Length |> ignore
            for _ in 1..5 do stuck.Step 1 |> ignore
            Expect.equal stuck.CannonPosition 5 "always repeating the first no-op"
        }

        test "the same seed gives the same trajectory, single and vectorised" {
            for id in [ "minatar/seaquest"; "minatar/space_invaders" ] do
                let a = trajectory id 11UL 3000
                Expect.equal (trajectory id 11UL 3000) a (id + ": same seed")
                Expect.notEqual (trajectory id 12UL 3000) a (id + ": another seed")
                let v = vectorTrajectory id 11UL 500
                Expect.equal (vectorTrajectory id 11UL 500) v (id + ": vectorised, same seed")
        }

        test "frames render each game's cells in its palette and save as PNG" {
            let check (game: MinAtarGame) y x channel =
                game.Reset(0UL).Length |> ignore
                let frame = game.Render()
                Expect.equal (frame.Width, frame.Height) (160, 160) "16 pixels a cell"
                let colour = (MinAtarGame.Palette game.Channels).[channel]
                Expect.equal frame[x * 16 + 8, y * 16 + 8] colour "the agent's colour"
                let path = Path.Combine(Path.GetTempPath(), sprintf "prunerl-%s-%d.png" (game.Id.Replace('/', '-')) System.Environment.ProcessId)
                try
                    Png.Save(frame, path)
                    Expect.isGreaterThan (FileInfo(path).Length) 100L "written"
                finally
                    File.Delete path
            check (new Seaquest(options 0.1 true false)) 0 5 Seaquest.SubFront
            check (new SpaceInvaders(options 0.1 true false)) 9 5 SpaceInvaders.Cannon
        }
    ]

[<Tests>]
let tests = testList "minatar seaquest and space invaders" [ seaquestTests; invadersTests; sharedTests ]
