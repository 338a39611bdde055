/// The classic-control environments against Gymnasium's definitions (CartPole-v1, Acrobot-v1,
/// MountainCar-v0, Pendulum-v1): spaces, start distributions, one step from hand-built states
/// recomputed here from the published equations, termination thresholds, time limits, rewards,
/// random-policy returns, determinism, bad input and pictures.
module Prunerl.Tests.ClassicControlTests

open System
open System.IO
open Expecto
open Prunerl.Agents.Envs
open Prunerl.Agents.Envs.ClassicControl
open Prunerl.Agents.Runtime

type private Env = Prunerl.Agents.Envs.Environment

let private reset (e: Env) (seed: uint64) = e.Reset(seed).ToArray()
let private observation (e: Env) = e.Observation.ToArray()
let private torque (e: Env) (u: float32) = e.Step(ReadOnlySpan<float32>([| u |]))

let private throwsWith<'e when 'e :> exn> = EnvironmentCoreTests.throwsWith<'e>

let private close (tolerance: float) (actual: float) (expected: float) what =
    Expect.isTrue (abs (actual - expected) <= tolerance) (sprintf "%s: %.17g, expected %.17g" what actual expected)

/// The states of 1000 seeded resets, each checked to be what its first observation shows.
let private seededStarts (e: #Env) (state: unit -> 'S) (observe: 'S -> float32[]) =
    [ for seed in 0UL .. 999UL ->
        let o = reset e seed
        let s = state ()
        Expect.equal o (observe s) "the first observation shows the state"
        s ]

/// Values drawn uniformly from [low, high]: all inside, both ends approached within 1% of the width, centred.
let private uniformOver (low: float) (high: float) (values: float list) what =
    Expect.isTrue (values |> List.forall (fun v -> v >= low && v <= high)) (what + ": within the range")
    let margin = (high - low) / 100.0
    Expect.isLessThan (List.min values) (low + margin) (what + ": reaches the low end")
    Expect.isGreaterThan (List.max values) (high - margin) (what + ": reaches the high end")
    close ((high - low) / 20.0) (List.average values) ((low + high) / 2.0) (what + ": centred")

/// Random policy over whole episodes: per-episode returns and lengths.
let private randomEpisodes (e: Env) (episodes: int) (seed: uint64) =
    let mutable actions = EnvRandom(seed + 1000UL)
    EnvironmentCoreTests.episodesUnder e episodes seed (fun () ->
        match e.ActionSpace with
        | :? DiscreteSpace as d -> e.Step(actions.NextInt d.Count)
        | _ -> torque e (float32 (actions.Uniform(-2.0, 2.0))))

/// A trajectory of observations and rewards under seeded random actions.
let private trajectory (e: Env) (seed: uint64) (steps: int) =
    let mutable actions = EnvRandom 99UL
    let first = reset e seed
    [ yield (first, 0f)
      for _ in 1..steps do
          let result =
              match e.ActionSpace with
              | :? DiscreteSpace as d -> e.Step(actions.NextInt d.Count)
              | _ -> torque e (float32 (actions.Uniform(-2.0, 2.0)))
          yield (observation e, result.Reward)
          if result.Done then e.Reset().Length |> ignore ]

/// Whether any pixel has the colour.
let private hasColour (frame: Frame) (colour: Rgb) =
    seq { for y in 0 .. frame.Height - 1 do for x in 0 .. frame.Width - 1 -> frame[x, y] } |> Seq.exists ((=) colour)

let private cartPoleObservation (s: CartPoleState) = [| float32 s.X; float32 s.XDot; float32 s.Theta; float32 s.ThetaDot |]

/// The CartPole step written from Gymnasium's equations (gymnasium/envs/classic_control/cartpole.py, CartPoleEnv.step:
/// explicit Euler, kinematics_integrator "euler", old velocities move positions).
let private cartPoleStep (x, xDot, theta: float, thetaDot) (action: int) =
    let g, mCart, mPole, halfLength, tau = 9.8, 1.0, 0.1, 0.5, 0.02
    let totalMass = mCart + mPole
    let force = if action = 1 then 10.0 else -10.0
    let temp = (force + mPole * halfLength * thetaDot * thetaDot * sin theta) / totalMass
    let thetaAcc = (g * sin theta - cos theta * temp) / (halfLength * (4.0 / 3.0 - mPole * cos theta ** 2.0 / totalMass))
    let xAcc = temp - mPole * halfLength * thetaAcc * cos theta / totalMass
    (x + tau * xDot, xDot + tau * xAcc, theta + tau * thetaDot, thetaDot + tau * thetaAcc)

/// Acrobot's book dynamics (Sutton and Barto; all links length 1, mass 1, centre 0.5, inertia 1), written independently.
let private acrobotDerivatives (torque: float) (s: float[]) =
    let t1, t2, dt1, dt2 = s[0], s[1], s[2], s[3]
    let d1 = 0.25 + (1.0 + 0.25 + cos t2) + 2.0
    let d2 = (0.25 + 0.5 * cos t2) + 1.0
    let phi2 = 0.5 * 9.8 * sin (t1 + t2)
    let phi1 = -0.5 * dt2 * dt2 * sin t2 - dt2 * dt1 * sin t2 + 1.5 * 9.8 * sin t1 + phi2
    let ddt2 = (torque + d2 / d1 * phi1 - 0.5 * dt1 * dt1 * sin t2 - phi2) / (1.25 - d2 * d2 / d1)
    let ddt1 = -(d2 * ddt2 + phi1) / d1
    [| dt1; dt2; ddt1; ddt2 |]

let private acrobotObservation (s: AcrobotState) =
    [| float32 (cos s.Theta1); float32 (sin s.Theta1); float32 (cos s.Theta2); float32 (sin s.Theta2); float32 s.Theta1Dot; float32 s.Theta2Dot |]

let private pendulumObservation (s: PendulumState) = [| float32 (cos s.Theta); float32 (sin s.Theta); float32 s.ThetaDot |]

/// One classical Runge-Kutta step of size h.
let private rk4 (f: float[] -> float[]) (h: float) (y: float[]) =
    let add (a: float[]) c (b: float[]) = Array.map2 (fun p q -> p + c * q) a b
    let k1 = f y
    let k2 = f (add y (h / 2.0) k1)
    let k3 = f (add y (h / 2.0) k2)
    let k4 = f (add y h k3)
    Array.init 4 (fun i -> y[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))

let private cartPoleTests =
    testList "cartpole" [
        test "spaces and limit as CartPole-v1" {
            let e = CartPole()
            Expect.equal e.Id "cartpole" "id"
            Expect.equal e.ActionSpace (DiscreteSpace 2 :> Space) "push left or right"
            Expect.equal e.MaxEpisodeSteps (Nullable 500) "500 steps"
            Expect.equal e.ObservationSpace.Shape [| 4 |] "four numbers"
            Expect.equal e.ObservationSpace.High [| 4.8f; infinityf; float32 (24.0 * Math.PI / 360.0 * 2.0); infinityf |] "twice the thresholds; no velocity bound"
            Expect.equal e.ObservationSpace.Low (e.ObservationSpace.High |> Array.map (~-)) "symmetric"
            close 1e-15 CartPole.ThetaThreshold (12.0 * Math.PI / 180.0) "12 degrees"
        }

        test "1000 seeded starts: each of the four uniform in [-0.05, 0.05], observed as float32" {
            let e = CartPole()
            let starts = seededStarts e (fun () -> e.State) cartPoleObservation
            uniformOver -0.05 0.05 (starts |> List.map _.X) "x"
            uniformOver -0.05 0.05 (starts |> List.map _.XDot) "x'"
            uniformOver -0.05 0.05 (starts |> List.map _.Theta) "theta"
            uniformOver -0.05 0.05 (starts |> List.map _.ThetaDot) "theta'"
        }

        test "one step from a known state is the explicit Euler step of the equations" {
            let e = CartPole()
            reset e 1UL |> ignore
            for action in [ 0; 1 ] do
                e.SetState(CartPoleState(0.1, -0.3, 0.05, 0.4))
                let result = e.Step action
                let (x, xd, th, thd) = cartPoleStep (0.1, -0.3, 0.05, 0.4) action
                let s = e.State
                close 1e-12 s.X x "x"
                close 1e-12 s.XDot xd "x'"
                close 1e-12 s.Theta th "theta"
                close 1e-12 s.ThetaDot thd "theta'"
                Expect.equal (observation e) (cartPoleObservation s) "observation is the new state"
                Expect.equal result (StepResult(1f, false, false)) "+1, running"
            // The position moved with the old velocity only: x' = 0 leaves x unchanged.
            e.SetState(CartPoleState(0.5, 0.0, 0.0, 0.0))
            e.Step 1 |> ignore
            Expect.equal e.State.X 0.5 "explicit Euler: the position uses the old (zero) velocity"
            Expect.isGreaterThan e.State.XDot 0.0 "while the velocity takes the push"
        }

        test "terminates beyond 12 degrees or 2.4 on either side, with reward +1 on that step" {
            let e = CartPole()
            let after (x, theta) =
                reset e 0UL |> ignore
                // Zero velocities: the step leaves x and theta where they are.
                e.SetState(CartPoleState(x, 0.0, theta, 0.0))
                e.Step 0
            let threshold = 12.0 * Math.PI / 180.0
            for sign in [ 1.0; -1.0 ] do
                Expect.equal (after (0.0, sign * (threshold - 1e-6))) (StepResult(1f, false, false)) "just inside 12 degrees"
                Expect.equal (after (0.0, sign * (threshold + 1e-6))) (StepResult(1f, true, false)) "just beyond 12 degrees"
                Expect.equal (after (sign * 2.399, 0.0)) (StepResult(1f, false, false)) "just inside 2.4"
                Expect.equal (after (sign * 2.401, 0.0)) (StepResult(1f, true, false)) "just beyond 2.4"
            throwsWith<InvalidOperationException> "the episode is over; call Reset" (fun () -> e.Step 0 |> ignore)
        }

        test "an upright pole is truncated (not terminated) at step 500, +1 every step" {
            let e = CartPole()
            reset e 5UL |> ignore
            let results =
                [ for _ in 1..500 ->
                    e.SetState(CartPoleState(0.0, 0.0, 0.0, 0.0))
                    e.Step 1 ]
            Expect.isFalse (results |> List.take 499 |> List.exists (fun r -> r.Done)) "running for 499 steps"
            Expect.equal (List.last results) (StepResult(1f, false, true)) "truncated at 500"
            Expect.equal (results |> List.sumBy (fun r -> r.Reward)) 500f "return 500"
        }

        test "a random policy lasts about 22 steps" {
            let episodes = randomEpisodes (CartPole()) 2000 3UL
            let mean = episodes |> List.averageBy fst
            Expect.isTrue (mean > 19.0 && mean < 25.0) (sprintf "mean return %f" mean)
            Expect.isTrue (episodes |> List.forall (fun (r, l) -> r = float l)) "return = length"
        }
    ]

let private acrobotTests =
    testList "acrobot" [
        test "spaces and limit as Acrobot-v1" {
            let e = Acrobot()
            Expect.equal e.ActionSpace (DiscreteSpace 3 :> Space) "three torques"
            Expect.equal e.MaxEpisodeSteps (Nullable 500) "500 steps"
            Expect.equal e.ObservationSpace.High [| 1f; 1f; 1f; 1f; float32 (4.0 * Math.PI); float32 (9.0 * Math.PI) |] "cos, sin and the velocity bounds"
            Expect.equal e.ObservationSpace.Low (e.ObservationSpace.High |> Array.map (~-)) "symmetric"
        }

        test "1000 seeded starts: uniform in [-0.1, 0.1] for all four, held as float32 as Gymnasium does" {
            let e = Acrobot()
            let starts = seededStarts e (fun () -> e.State) acrobotObservation
            let bound = float (float32 0.1)
            for what, values in
                [ "theta1", starts |> List.map _.Theta1; "theta2", starts |> List.map _.Theta2
                  "theta1'", starts |> List.map _.Theta1Dot; "theta2'", starts |> List.map _.Theta2Dot ] do
                uniformOver -bound bound values what
                Expect.isTrue (values |> List.forall (fun v -> float (float32 v) = v)) (what + ": float32 values")
        }

        test "one step is one Runge-Kutta step of 0.2 s of the book dynamics, torque = action - 1" {
            let e = Acrobot()
            reset e 2UL |> ignore
            for action in 0..2 do
                let start = [| 0.3; -0.7; 1.1; -2.0 |]
                e.SetState(AcrobotState(start[0], start[1], start[2], start[3]))
                let result = e.Step action
                let expected = rk4 (acrobotDerivatives (float (action - 1))) 0.2 start
                let s = e.State
                close 1e-9 s.Theta1 expected[0] "theta1"
                close 1e-9 s.Theta2 expected[1] "theta2"
                close 1e-9 s.Theta1Dot expected[2] "theta1'"
                close 1e-9 s.Theta2Dot expected[3] "theta2'"
                Expect.equal (observation e) (acrobotObservation s) "observation"
                Expect.equal result (StepResult(-1f, false, false)) "-1, running"
        }

        test "angles wrap into [-pi, pi]; velocities clip at 4 pi and 9 pi" {
            let e = Acrobot()
            reset e 0UL |> ignore
            let start = [| 3.0; -3.0; 3.0; -3.0 |]
            e.SetState(AcrobotState(start[0], start[1], start[2], start[3]))
            e.Step 1 |> ignore
            let raw = rk4 (acrobotDerivatives 0.0) 0.2 start
            Expect.isTrue (raw[0] > Math.PI && raw[1] < -Math.PI) (sprintf "both angles leave [-pi, pi]: %A" raw)
            close 1e-9 e.State.Theta1 (raw[0] - 2.0 * Math.PI) "theta1 past pi comes back from -pi"
            close 1e-9 e.State.Theta2 (raw[1] + 2.0 * Math.PI) "theta2 past -pi comes back from pi"
            let fast = [| 0.0; 0.0; 30.0; -60.0 |]
            e.SetState(AcrobotState(fast[0], fast[1], fast[2], fast[3]))
            e.Step 1 |> ignore
            let raw = rk4 (acrobotDerivatives 0.0) 0.2 fast
            Expect.isTrue (raw[2] > 4.0 * Math.PI && raw[3] < -9.0 * Math.PI) (sprintf "both speeds beyond their bounds: %A" raw)
            Expect.equal e.State.Theta1Dot (4.0 * Math.PI) "theta1' clipped at 4 pi"
            Expect.equal e.State.Theta2Dot (-9.0 * Math.PI) "theta2' clipped at -9 pi"
            Expect.isTrue (abs e.State.Theta1 <= Math.PI && abs e.State.Theta2 <= Math.PI) (sprintf "angles %A" e.State)
        }

        test "the goal: -cos t1 - cos(t1 + t2) > 1 terminates with reward 0" {
            let e = Acrobot()
            reset e 0UL |> ignore
            let goal (t1, t2) =
                e.SetState(AcrobotState(t1, t2, 0.0, 0.0))
                e.AtGoal
            Expect.isFalse (goal (2.0 * Math.PI / 3.0 - 0.01, 0.0)) "just below the line"
            Expect.isTrue (goal (2.0 * Math.PI / 3.0 + 0.01, 0.0)) "just above the line"
            Expect.isFalse (goal (Math.PI, Math.PI)) "elbow up, end back at the pivot's height"
            Expect.isTrue (goal (Math.PI / 2.0 + 0.3, Math.PI / 2.0 - 0.3)) "first link above level, second straight up"
            // Balanced upright, it is still above the line after the step: terminated, reward 0.
            e.SetState(AcrobotState(Math.PI, 0.0, 0.0, 0.0))
            Expect.equal (e.Step 1) (StepResult(0f, true, false)) "goal reached"
            reset e 0UL |> ignore
            e.SetState(AcrobotState(Math.PI / 2.0, 0.0, 0.0, 0.0))
            Expect.equal (e.Step 1) (StepResult(-1f, false, false)) "level arm: not yet"
        }

        test "truncated at 500 steps; a random policy rarely reaches the goal" {
            let episodes = randomEpisodes (Acrobot()) 40 11UL
            let mean = episodes |> List.averageBy fst
            Expect.isTrue (mean >= -500.0 && mean < -470.0) (sprintf "mean return %f" mean)
            Expect.isTrue (episodes |> List.forall (fun (r, l) -> l <= 500 && (if l = 500 then r = -500.0 || r = -499.0 else r = float (1 - l)))) "-1 per step, 0 at the goal"
            Expect.isTrue (episodes |> List.exists (fun (_, l) -> l = 500)) "some episodes run to the limit"
        }
    ]

let private mountainCarTests =
    testList "mountaincar" [
        test "spaces and limit as MountainCar-v0" {
            let e = MountainCar()
            Expect.equal e.ActionSpace (DiscreteSpace 3 :> Space) "left, none, right"
            Expect.equal e.MaxEpisodeSteps (Nullable 200) "200 steps"
            Expect.equal e.ObservationSpace.Low [| -1.2f; -0.07f |] "low"
            Expect.equal e.ObservationSpace.High [| 0.6f; 0.07f |] "high"
        }

        test "1000 seeded starts: position uniform in [-0.6, -0.4], velocity 0" {
            let e = MountainCar()
            let starts = seededStarts e (fun () -> e.State) (fun s -> [| float32 s.Position; float32 s.Velocity |])
            uniformOver -0.6 -0.4 (starts |> List.map _.Position) "position"
            Expect.isTrue (starts |> List.forall (fun s -> s.Velocity = 0.0)) "at rest"
        }

        test "one step: v += (a - 1) 0.001 - 0.0025 cos 3p, then p += v" {
            let e = MountainCar()
            reset e 0UL |> ignore
            for action in 0..2 do
                e.SetState(MountainCarState(-0.5, 0.01))
                Expect.equal (e.Step action) (StepResult(-1f, false, false)) "-1, running"
                let v = 0.01 + (float (action - 1) * 0.001 - 0.0025 * cos (3.0 * -0.5))
                let s = e.State
                close 1e-15 s.Velocity v "velocity"
                close 1e-15 s.Position (-0.5 + v) "position moves with the new velocity"
                Expect.equal (observation e) [| float32 s.Position; float32 s.Velocity |] "observation"
            e.SetState(MountainCarState(-1.0, 0.069))
            e.Step 2 |> ignore
            Expect.equal e.State (MountainCarState(-1.0 + 0.07, 0.07)) "velocity clipped at 0.07 before it moves the car"
            e.SetState(MountainCarState(0.0, -0.069))
            e.Step 0 |> ignore
            Expect.equal e.State.Velocity -0.07 "and at -0.07"
        }

        test "the flag at 0.5 terminates when moving right; the left wall stops the car" {
            let e = MountainCar()
            reset e 0UL |> ignore
            e.SetState(MountainCarState(0.49, 0.02))
            Expect.equal (e.Step 1) (StepResult(-1f, true, false)) "past the flag: terminated, still -1"
            reset e 0UL |> ignore
            e.SetState(MountainCarState(0.55, -0.001))
            let result = e.Step 0
            Expect.isGreaterThan e.State.Position 0.5 "beyond the flag"
            Expect.isFalse result.Terminated "but moving left: not terminated"
            reset e 0UL |> ignore
            e.SetState(MountainCarState(-1.19, -0.05))
            e.Step 0 |> ignore
            Expect.equal e.State (MountainCarState(-1.2, 0.0)) "clipped to -1.2 and stopped"
            Expect.equal (observation e) [| -1.2f; 0f |] "observed there"
            e.SetState(MountainCarState(-1.2, 0.0))
            e.Step 2 |> ignore
            Expect.isGreaterThan e.State.Velocity 0.0 "pushing right leaves the wall"
        }

        test "a random policy never reaches the flag: -200, truncated, every episode" {
            let e = MountainCar()
            reset e 4UL |> ignore
            let mutable actions = EnvRandom 8UL
            for _ in 1..20 do
                let results = [ for _ in 1..200 -> e.Step(actions.NextInt 3) ]
                Expect.isFalse (results |> List.take 199 |> List.exists (fun r -> r.Done)) "running until the limit"
                Expect.equal (List.last results) (StepResult(-1f, false, true)) "truncated at 200"
                Expect.equal (results |> List.sumBy (fun r -> r.Reward)) -200f "return -200"
                e.Reset().Length |> ignore
        }
    ]

let private pendulumTests =
    testList "pendulum" [
        test "spaces and limit as Pendulum-v1" {
            let e = Pendulum()
            let box = e.ActionSpace :?> BoxSpace
            Expect.equal (box.Low, box.High, box.Shape) ([| -2f |], [| 2f |], [| 1 |]) "one torque in [-2, 2]"
            Expect.equal e.ObservationSpace.High [| 1f; 1f; 8f |] "cos, sin, speed bound"
            Expect.equal e.ObservationSpace.Low [| -1f; -1f; -8f |] "symmetric"
            Expect.equal e.MaxEpisodeSteps (Nullable 200) "200 steps"
        }

        test "1000 seeded starts: angle uniform in [-pi, pi], speed in [-1, 1]" {
            let e = Pendulum()
            let starts = seededStarts e (fun () -> e.State) pendulumObservation
            uniformOver -Math.PI Math.PI (starts |> List.map _.Theta) "angle"
            uniformOver -1.0 1.0 (starts |> List.map _.ThetaDot) "speed"
        }

        test "reward is the cost of the state before the step; dynamics as Gymnasium's" {
            let e = Pendulum()
            reset e 0UL |> ignore
            e.SetState(PendulumState(1.0, 2.0))
            let result = torque e 0.5f
            close 1e-6 (float result.Reward) -(1.0 + 0.1 * 4.0 + 0.001 * 0.25) "-(th^2 + 0.1 th'^2 + 0.001 u^2)"
            Expect.isFalse result.Done "running"
            let thd = 2.0 + (3.0 * 10.0 / 2.0 * sin 1.0 + 3.0 * 0.5) * 0.05
            let s = e.State
            close 1e-12 s.ThetaDot thd "th' += (3g/2l sin th + 3/(ml^2) u) dt"
            close 1e-12 s.Theta (1.0 + thd * 0.05) "th += new th' dt"
            Expect.equal (observation e) (pendulumObservation s) "observation"
            // The angle in the cost is normalised into [-pi, pi): 7 rad costs as 7 - 2 pi.
            e.SetState(PendulumState(7.0, 0.0))
            close 1e-6 (float (torque e 0f).Reward) -((7.0 - 2.0 * Math.PI) ** 2.0) "angle normalised"
            e.SetState(PendulumState(-4.0, 0.0))
            close 1e-6 (float (torque e -2f).Reward) -((2.0 * Math.PI - 4.0) ** 2.0 + 0.004) "negative angle normalised"
            close 1e-15 (Pendulum.AngleNormalize Math.PI) -Math.PI "pi maps to -pi"
            close 1e-15 (Pendulum.AngleNormalize (-3.0 * Math.PI / 2.0)) (Math.PI / 2.0) "-3pi/2 maps to pi/2"
        }

        test "the speed is clipped at 8 before it moves the angle" {
            let e = Pendulum()
            reset e 0UL |> ignore
            e.SetState(PendulumState(Math.PI / 2.0, 7.9))
            torque e 2f |> ignore
            Expect.equal e.State (PendulumState(Math.PI / 2.0 + 8.0 * 0.05, 8.0)) "clipped speed, angle moved by 8 dt"
            e.SetState(PendulumState(-Math.PI / 2.0, -7.9))
            torque e -2f |> ignore
            Expect.equal e.State (PendulumState(-Math.PI / 2.0 - 8.0 * 0.05, -8.0)) "and at -8"
        }

        test "never terminates; truncated at 200; a random policy scores about -1200" {
            let episodes = randomEpisodes (Pendulum()) 100 21UL
            Expect.isTrue (episodes |> List.forall (fun (_, l) -> l = 200)) "every episode runs 200 steps"
            let mean = episodes |> List.averageBy fst
            Expect.isTrue (mean > -1450.0 && mean < -950.0) (sprintf "mean return %f" mean)
            let e = Pendulum()
            reset e 1UL |> ignore
            let results = [ for _ in 1..200 -> torque e 0f ]
            Expect.isFalse (results |> List.exists (fun r -> r.Terminated)) "never terminated"
            Expect.isTrue (List.last results).Truncated "truncated at 200"
            Expect.isTrue (results |> List.forall (fun r -> r.Reward <= 0f && r.Reward >= -16.2736044f)) "rewards within [-16.27, 0]"
        }

        test "a torque outside [-2, 2], NaN, or an integer action are clear errors" {
            let e = Pendulum()
            reset e 0UL |> ignore
            throwsWith<ArgumentOutOfRangeException> "action must be 1 values within [-2, 2], got [2.5]" (fun () -> torque e 2.5f |> ignore)
            throwsWith<ArgumentOutOfRangeException> "got [NaN]" (fun () -> torque e nanf |> ignore)
            throwsWith<ArgumentException> "action must be" (fun () -> e.Step(ReadOnlySpan<float32>([| 0f; 0f |])) |> ignore)
            throwsWith<InvalidOperationException> "actions are continuous" (fun () -> e.Step 1 |> ignore)
            throwsWith<InvalidOperationException> "actions are discrete" (fun () -> torque (CartPole()) 1f |> ignore)
            let car = MountainCar()
            reset car 0UL |> ignore
            throwsWith<ArgumentOutOfRangeException> "action must be in [0, 3), got 3" (fun () -> car.Step 3 |> ignore)
        }
    ]

let private commonTests =
    testList "all four" [
        test "the registry makes each with Gymnasium's id, limit and action space" {
            let expected = [ "cartpole", typeof<CartPole>, 500; "acrobot", typeof<Acrobot>, 500; "mountaincar", typeof<MountainCar>, 200; "pendulum", typeof<Pendulum>, 200 ]
            for id, kind, limit in expected do
                let e = EnvironmentRegistry.Create id
                Expect.equal (e.GetType()) kind id
                Expect.equal e.Id id "id"
                Expect.equal e.MaxEpisodeSteps (Nullable limit) "limit"
            Expect.equal (EnvironmentRegistry.Ids |> Seq.take 4 |> List.ofSeq) [ "cartpole"; "acrobot"; "mountaincar"; "pendulum" ] "listed first"
        }

        test "the same seed gives the same trajectory, single and vectorised" {
            for id in [ "cartpole"; "acrobot"; "mountaincar"; "pendulum" ] do
                let a = trajectory (EnvironmentRegistry.Create id) 7UL 600
                Expect.equal (trajectory (EnvironmentRegistry.Create id) 7UL 600) a (id + ": same seed")
                Expect.notEqual (trajectory (EnvironmentRegistry.Create id) 8UL 600) a (id + ": another seed")
                let run () =
                    let vector = EnvironmentRegistry.CreateVector(id, 8)
                    vector.Reset 3UL
                    let mutable actions = EnvRandom 5UL
                    [ for _ in 1..300 ->
                        match vector.ActionSpace with
                        | :? DiscreteSpace as d -> vector.Step(ReadOnlySpan<int>(Array.init 8 (fun _ -> actions.NextInt d.Count)))
                        | _ -> vector.Step(ReadOnlySpan<float32>(Array.init 8 (fun _ -> float32 (actions.Uniform(-2.0, 2.0)))))
                        vector.Observations.ToArray(), vector.Rewards.ToArray() ]
                let first = run ()
                Expect.equal (run ()) first (id + ": vectorised, same seed")
                let size = (EnvironmentRegistry.Create id).ObservationSpace.Size
                let observations = fst first[0]
                Expect.notEqual observations[0 .. size - 1] observations[size .. 2 * size - 1] (id + ": copies differ")
        }

        test "pictures: Gymnasium's sizes (square ones at 400), the bodies' colours, saved as PNG" {
            let directory = Path.Combine(Path.GetTempPath(), "prunerl-classic-" + Guid.NewGuid().ToString("N"))
            try
                let cases =
                    [ "cartpole", (600, 400), [ Rgb.Black; Rgb(202uy, 152uy, 101uy); Rgb(129uy, 132uy, 203uy) ]
                      "acrobot", (400, 400), [ Rgb(0uy, 204uy, 204uy); Rgb(204uy, 204uy, 0uy); Rgb.Black ]
                      "mountaincar", (600, 400), [ Rgb.Black; Rgb(128uy, 128uy, 128uy); Rgb(204uy, 204uy, 0uy) ]
                      "pendulum", (400, 400), [ Rgb(204uy, 77uy, 77uy); Rgb.Black ] ]
                for id, (width, height), colours in cases do
                    let e = EnvironmentRegistry.Create id
                    reset e 0UL |> ignore
                    let frame = e.Render()
                    Expect.equal (frame.Width, frame.Height) (width, height) (id + ": size")
                    for colour in colours do Expect.isTrue (hasColour frame colour) (sprintf "%s: %A drawn" id colour)
                    let path = Path.Combine(directory, id + ".png")
                    Png.Save(frame, path)
                    Expect.equal (File.ReadAllBytes(path)[0..3]) [| 0x89uy; 0x50uy; 0x4Euy; 0x47uy |] (id + ": a PNG file")
            finally
                if Directory.Exists directory then Directory.Delete(directory, true)
        }

        test "pictures put the bodies where the state says" {
            let cart = CartPole()
            reset cart 0UL |> ignore
            cart.SetState(CartPoleState(1.0, 0.0, 0.0, 0.0))
            let frame = cart.Render()
            // Cart centre at x = 1 * 125 + 300 = 425, 100 px above the bottom; the pole straight up above it.
            Expect.equal frame[425, 400 - 1 - 90] Rgb.Black "the cart"
            Expect.equal frame[300, 400 - 1 - 90] Rgb.White "not at the centre"
            Expect.equal frame[425, 400 - 1 - 200] (Rgb(202uy, 152uy, 101uy)) "the pole above it"
            let pendulum = Pendulum()
            reset pendulum 0UL |> ignore
            pendulum.SetState(PendulumState(0.0, 0.0))
            let up = pendulum.Render()
            Expect.equal up[200, 200 - 60] (Rgb(204uy, 77uy, 77uy)) "th = 0: the rod points up"
            Expect.equal up[200, 200 + 60] Rgb.White "and not down"
            let acrobot = Acrobot()
            reset acrobot 0UL |> ignore
            acrobot.SetState(AcrobotState(0.0, 0.0, 0.0, 0.0))
            let hanging = acrobot.Render()
            Expect.equal hanging[200, 200 + 60] (Rgb(0uy, 204uy, 204uy)) "hanging: the first link below the pivot"
            Expect.equal hanging[200, 200 + 150] (Rgb(0uy, 204uy, 204uy)) "and the second below it"
            Expect.equal hanging[200, 200 - 60] Rgb.White "nothing above"
        }
    ]

[<Tests>]
let tests = testList "classic control" [ cartPoleTests; acrobotTests; mountainCarTests; pendulumTests; commonTests ]
