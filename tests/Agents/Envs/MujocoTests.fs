/// The MuJoCo binding and the locomotion tasks (HalfCheetah, Hopper, Walker2d v4): the engine checked
/// against free fall, its errors as exceptions, the generated struct layout against the headers; each
/// task's spaces, model, observation layout, rewards recomputed from positions before and after a step,
/// healthy checks at their bounds, start noise, time limit, determinism, random-policy returns, exact
/// save and restore, and pictures. They need MuJoCo 2.2.2 (build/install-mujoco.sh, which ./test.sh runs).
module Prunerl.Tests.MujocoTests

open System
open System.IO
open Expecto
open Prunerl.Agents.Envs
open Prunerl.Agents.Checkpoints
open Prunerl.Agents.Envs.MuJoCo
open Prunerl.Tests.Processes
open Prunerl.Agents.Runtime

type private Env = Prunerl.Agents.Envs.Environment

let private throwsWith<'e when 'e :> exn> = EnvironmentCoreTests.throwsWith<'e>

let private close (tolerance: float) (actual: float) (expected: float) what =
    Expect.isTrue (abs (actual - expected) <= tolerance) (sprintf "%s: %.17g, expected %.17g" what actual expected)

let private make (task: LocomotionTask) = new LocomotionEnvironment(task)
let private reset (e: Env) (seed: uint64) = e.Reset(seed).ToArray()
let private step (e: Env) (action: float32[]) = e.Step(ReadOnlySpan<float32>(action))
let private qpos (e: LocomotionEnvironment) = e.Simulation.Qpos.ToArray()
let private qvel (e: LocomotionEnvironment) = e.Simulation.Qvel.ToArray()
let private setState (e: LocomotionEnvironment) (positions: float[]) (velocities: float[]) =
    e.Simulation.SetState(ReadOnlySpan<float>(positions), ReadOnlySpan<float>(velocities))

/// Uniformly random actions in [-1, 1] from a seeded stream.
let private randomActions (seed: uint64) (size: int) =
    let mutable random = EnvRandom seed
    fun () -> Array.init size (fun _ -> float32 (random.Uniform(-1.0, 1.0)))

/// Steps under the actions until the episode ends or the count runs out: observations, rewards, flags.
let private continueFor (e: Env) (next: unit -> float32[]) (steps: int) =
    let rec go n acc =
        if n = 0 then List.rev acc
        else
            let r = step e (next ())
            let acc = (e.Observation.ToArray(), r.Reward, r.Terminated, r.Truncated) :: acc
            if r.Done then List.rev acc else go (n - 1) acc
    go steps []

/// Whole episodes under random actions: per-episode returns and lengths.
let private randomEpisodes (e: Env) (episodes: int) (seed: uint64) =
    let next = randomActions (seed + 1000UL) (e.ActionSpace :?> BoxSpace).Size
    reset e seed |> ignore
    [ for _ in 1..episodes ->
        let mutable total = 0.0
        let mutable length = 0
        let mutable finished = false
        while not finished do
            let r = step e (next ())
            total <- total + float r.Reward
            length <- length + 1
            finished <- r.Done
        e.Reset().Length |> ignore
        total, length ]

let private freeFallXml (integrator: string) =
    sprintf """<mujoco><option timestep="0.002" gravity="0 0 -9.81" integrator="%s"/>
<worldbody><body pos="0.3 -0.2 10"><freejoint/><geom type="sphere" size="0.1"/></body></worldbody></mujoco>""" integrator

/// Mass of a capsule of density 1000: a cylinder of the given length plus a sphere (MuJoCo's formula).
let private capsuleMass (radius: float) (length: float) =
    1000.0 * (Math.PI * radius * radius * length + 4.0 / 3.0 * Math.PI * radius * radius * radius)

let private degrees (d: float) = d * Math.PI / 180.0

/// The hinge ranges after the three root joints, low and high.
let private hingeRanges (e: LocomotionEnvironment) = e.Simulation.JointRange.ToArray() |> Array.skip 6 |> Array.chunkBySize 2 |> Array.map (fun r -> r[0], r[1])

let private gears (e: LocomotionEnvironment) = e.Simulation.ActuatorGear.ToArray() |> Array.chunkBySize 6 |> Array.map Array.head

let private bindingTests =
    testList "binding" [
        test "the engine here is MuJoCo 2.2.2, and another version is refused with a reason" {
            match MujocoRuntime.Unavailable() with
            | null -> ()
            | reason -> failtest reason
            Expect.isNull (MujocoRuntime.VersionMismatch 222) "the version the offsets come from"
            let mismatch = MujocoRuntime.VersionMismatch 231
            Expect.isNotNull mismatch "another version"
            Expect.stringContains mismatch "231" "names the version found"
        }

        test "a missing engine is one line naming the library and the install command" {
            let reason = MujocoRuntime.Unavailable "libmujoco.so.0.0.0-not-installed"
            Expect.isNotNull reason "not found"
            Expect.stringContains reason "MuJoCo 2.2.2 is not installed (libmujoco.so.0.0.0-not-installed not found)" "what is missing"
            Expect.stringContains reason "build/install-mujoco.sh" "how to install it"
            Expect.isFalse (reason.Contains '\n') "one line"
        }

        test "the committed struct offsets are what the C compiler makes of the installed headers" {
            let script = Path.Combine(repoRoot.Value, "build", "generate-mujoco-layout.sh")
            let r = run "bash" [ script ] repoRoot.Value
            Expect.equal r.ExitCode 0 (describe r)
            let committed = File.ReadAllText(Path.Combine(repoRoot.Value, "Agents.CSharp", "Envs", "MuJoCo", "MujocoLayout.g.cs"))
            Expect.equal (r.Output.Trim()) (committed.Trim()) "regenerate with build/generate-mujoco-layout.sh > Agents.CSharp/Envs/MuJoCo/MujocoLayout.g.cs"
        }

        test "a free body falls as semi-implicit Euler says: z_n = z0 - g dt^2 n (n + 1) / 2, within g t dt / 2 of z0 - g t^2 / 2" {
            use simulation = MujocoSimulation.FromXml(freeFallXml "Euler")
            Expect.equal (simulation.Nq, simulation.Nv) (7, 6) "a free joint: position and quaternion, 6 velocities"
            Expect.isFalse simulation.UsesRungeKutta "Euler"
            simulation.Step 250
            let g, dt, n, t = 9.81, 0.002, 250.0, 0.5
            close 1e-12 simulation.Time t "time after 250 steps of 0.002 s"
            let position = simulation.Qpos.ToArray()
            let velocity = simulation.Qvel.ToArray()
            close 1e-9 position[2] (10.0 - g * dt * dt * n * (n + 1.0) / 2.0) "z, the discrete sum"
            close (g * t * dt / 2.0 + 1e-9) position[2] (10.0 - g * t * t / 2.0) "z, the continuous fall"
            close 1e-9 velocity[2] (-g * t) "vz = -g t"
            Expect.equal (position[0], position[1]) (0.3, -0.2) "no sideways drift"
            Expect.equal position[3..] [| 1.0; 0.0; 0.0; 0.0 |] "no rotation"
        }

        test "with RK4 the fall is exact: z = z0 - g t^2 / 2" {
            use simulation = MujocoSimulation.FromXml(freeFallXml "RK4")
            Expect.isTrue simulation.UsesRungeKutta "RK4"
            simulation.Step 250
            let position = simulation.Qpos.ToArray()
            close 1e-9 position[2] (10.0 - 9.81 * 0.25 / 2.0) "z after 0.5 s"
            close 1e-9 (simulation.Qvel.ToArray()[2]) (-9.81 * 0.5) "vz after 0.5 s"
        }

        test "XML and compile errors are ArgumentExceptions with MuJoCo's message, and the process goes on" {
            throwsWith<ArgumentException> "MuJoCo cannot load bad.xml: XML Error: Schema violation: unrecognized element; Element 'bogus'"
                (fun () -> MujocoSimulation.FromXml("<mujoco><bogus/></mujoco>", "bad.xml") |> ignore)
            throwsWith<ArgumentException> "mass and inertia of moving bodies must be larger than mjMINVAL"
                (fun () -> MujocoSimulation.FromXml("<mujoco><worldbody><body><joint type='hinge'/></body></worldbody></mujoco>") |> ignore)
            throwsWith<ArgumentException> "MuJoCo cannot load model.xml: XML parse error"
                (fun () -> MujocoSimulation.FromXml("<mujoco><worldbody>") |> ignore)
            use simulation = MujocoSimulation.FromXml(freeFallXml "Euler")
            simulation.Step 1
            Expect.isGreaterThan simulation.Time 0.0 "still simulating after the errors"
        }

        test "an engine error ends the process with one line on stderr and exit code 70, not MuJoCo's wait for Enter" {
            // mju_error is what the engine calls on a fatal error; a child process calls it after the binding's setup.
            let script = Path.Combine(Path.GetTempPath(), "prunerl-mujoco-error-" + Guid.NewGuid().ToString("N") + ".fsx")
            let agents = typeof<LocomotionTask>.Assembly.Location
            let lines =
                [ sprintf "#r @\"%s\"" agents
                  "open System.Runtime.InteropServices"
                  "[<DllImport(\"libmujoco.so.2.2.2\")>]"
                  "extern void mju_error(string message)"
                  "Prunerl.Agents.Envs.MuJoCo.MujocoRuntime.EnsureAvailable()"
                  "mju_error \"the engine broke\""
                  "printfn \"returned from the error handler\"" ]
            File.WriteAllLines(script, lines)
            try
                let r = run (dotnet ()) [ "fsi"; "--quiet"; script ] (Path.GetTempPath())
                Expect.equal r.ExitCode 70 (describe r)
                Expect.equal (r.Error.Trim()) "prunerl: MuJoCo error: the engine broke" "one line naming the error"
                Expect.isFalse (r.Output.Contains "returned") "the handler does not return into the engine"
            finally
                File.Delete script
        }

        test "a disposed simulation refuses to be read instead of reading freed memory" {
            let simulation = MujocoSimulation.FromXml(freeFallXml "Euler")
            simulation.Dispose()
            throwsWith<ObjectDisposedException> "MujocoSimulation" (fun () -> simulation.Qpos.Length |> ignore)
            throwsWith<ObjectDisposedException> "MujocoSimulation" (fun () -> simulation.Step 1)
            simulation.Dispose()
        }

        test "a standard normal draw has mean 0 and standard deviation 1" {
            let mutable random = EnvRandom 11UL
            let draws = Array.init 40000 (fun _ -> random.StandardNormal())
            let mean = Array.average draws
            let sd = sqrt (draws |> Array.averageBy (fun x -> (x - mean) * (x - mean)))
            close 0.02 mean 0.0 "mean"
            close 0.02 sd 1.0 "standard deviation"
            close 0.01 (draws |> Array.filter (fun x -> abs x < 1.0) |> Array.length |> fun k -> float k / 40000.0) 0.6827 "within one sd"
        }
    ]

let private taskTests =
    testList "tasks" [
        test "spaces, timing and integrators: 17/11/17 observations, 6/3/6 actions in [-1, 1], 5 x 0.01 and 4 x 0.002 s, 1000 steps" {
            for task, observations, actions, timestep, frameSkip, rk4 in
                [ LocomotionTask.HalfCheetah, 17, 6, 0.01, 5, false
                  LocomotionTask.Hopper, 11, 3, 0.002, 4, true
                  LocomotionTask.Walker2d, 17, 6, 0.002, 4, true ] do
                use e = make task
                Expect.equal e.ObservationSpace.Size observations (task.Id + " observation size")
                Expect.isTrue (e.ObservationSpace.Low |> Array.forall Single.IsNegativeInfinity) "unbounded observations"
                let box = e.ActionSpace :?> BoxSpace
                Expect.equal box.Size actions (task.Id + " action size")
                Expect.isTrue (Array.forall ((=) -1f) box.Low && Array.forall ((=) 1f) box.High) "actions in [-1, 1]"
                Expect.equal e.Simulation.Timestep timestep (task.Id + " timestep")
                Expect.equal task.FrameSkip frameSkip (task.Id + " frame skip")
                close 1e-15 e.Dt (float frameSkip * timestep) "dt"
                Expect.equal e.Simulation.UsesRungeKutta rk4 (task.Id + " integrator")
                Expect.equal e.MaxEpisodeSteps (Nullable 1000) "time limit"
        }

        test "the models are the standard bodies: masses, gears, hinge ranges, start height" {
            use cheetah = make LocomotionTask.HalfCheetah
            close 1e-9 (cheetah.Simulation.BodyMass.ToArray() |> Array.sum) 14.0 "HalfCheetah's total mass"
            // As MuJoCo 2.2.2 compiles Gymnasium's half_cheetah.xml.
            Array.iter2 (fun actual expected -> close 1e-6 actual expected "HalfCheetah body mass")
                (cheetah.Simulation.BodyMass.ToArray()) [| 0.0; 6.250209; 1.543515; 1.587448; 1.095397; 1.438075; 1.200837; 0.884519 |]
            Expect.equal (gears cheetah) [| 120.0; 90.0; 60.0; 120.0; 60.0; 30.0 |] "HalfCheetah gears"
            Expect.equal (hingeRanges cheetah) [| -0.52, 1.05; -0.785, 0.785; -0.4, 0.785; -1.0, 0.7; -1.2, 0.87; -0.5, 0.5 |] "HalfCheetah hinge ranges"

            let thigh, leg = capsuleMass 0.05 0.45, capsuleMass 0.04 0.5
            use hopper = make LocomotionTask.Hopper
            Array.iter2 (fun actual expected -> close 1e-9 actual expected "Hopper body mass")
                (hopper.Simulation.BodyMass.ToArray()) [| 0.0; capsuleMass 0.05 0.4; thigh; leg; capsuleMass 0.06 0.39 |]
            Expect.equal (gears hopper) [| 200.0; 200.0; 200.0 |] "Hopper gears"
            use walker = make LocomotionTask.Walker2d
            let foot = capsuleMass 0.06 0.2
            Array.iter2 (fun actual expected -> close 1e-9 actual expected "Walker2d body mass")
                (walker.Simulation.BodyMass.ToArray()) [| 0.0; capsuleMass 0.05 0.4; thigh; leg; foot; thigh; leg; foot |]
            Expect.equal (gears walker) (Array.create 6 100.0) "Walker2d gears"
            let legRanges = [| degrees -150.0, 0.0; degrees -150.0, 0.0; degrees -45.0, degrees 45.0 |]
            for e, ranges in [ hopper, legRanges; walker, Array.append legRanges legRanges ] do
                Array.iter2 (fun (l, h) (el, eh) -> close 1e-12 l el "low"; close 1e-12 h eh "high") (hingeRanges e) ranges
                Expect.equal (e.Simulation.Qpos0.ToArray()[1]) 1.25 "the torso starts 1.25 m up"
        }

        test "the observation is qpos without x, then qvel, clipped to +-10 for Hopper and Walker2d" {
            for task in LocomotionTask.All do
                use e = make task
                let first = reset e 5UL
                Expect.equal first (Array.append (qpos e).[1..] (qvel e) |> Array.map float32) (task.Id + ": the first observation")
                // Fast joints: the observation shows the clipped velocities of the state after the step.
                let velocities = Array.init e.Simulation.Nv (fun i -> if i = 0 then 30.0 elif i % 2 = 0 then -25.0 else 0.5)
                setState e (qpos e) velocities
                step e (Array.zeroCreate e.Simulation.Nu) |> ignore
                let limit = if task = LocomotionTask.HalfCheetah then infinity else 10.0
                let expected = Array.append (qpos e).[1..] (qvel e |> Array.map (fun v -> Math.Clamp(v, -limit, limit))) |> Array.map float32
                Expect.equal (e.Observation.ToArray()) expected (task.Id + ": the observation after a step")
                Expect.isTrue ((qvel e)[0] > 10.0) "still fast after one step"
                if limit = 10.0 then Expect.equal (e.Observation.ToArray()[e.Simulation.Nq - 1]) 10f "clipped"
        }

        test "reward = (x after - x before) / dt + healthy reward - ctrl cost weight x sum(a^2), from a hand-built state" {
            for task, healthy, weight in
                [ LocomotionTask.HalfCheetah, 0.0, 0.1; LocomotionTask.Hopper, 1.0, 1e-3; LocomotionTask.Walker2d, 1.0, 1e-3 ] do
                use e = make task
                reset e 3UL |> ignore
                let positions = e.Simulation.Qpos0.ToArray()
                positions[3] <- -0.1
                let velocities = Array.init e.Simulation.Nv (fun i -> if i = 0 then 1.0 else 0.0)
                setState e positions velocities
                let action = Array.init e.Simulation.Nu (fun i -> [| 0.5f; -0.25f; 1.0f |][i % 3])
                let xBefore = (qpos e)[0]
                let r = step e action
                Expect.equal (e.Simulation.Ctrl.ToArray()) (action |> Array.map float) (task.Id + ": the action is the control")
                let xAfter = (qpos e)[0]
                let squares = action |> Array.sumBy (fun a -> float a * float a)
                let forward = (xAfter - xBefore) / (float task.FrameSkip * e.Simulation.Timestep)
                close 1e-5 (float r.Reward) (forward + healthy - weight * squares) (task.Id + " reward")
                Expect.isGreaterThan forward 0.5 (task.Id + ": moving forward at about 1 m/s pays about 1")
                Expect.isFalse r.Terminated (task.Id + ": healthy")
        }

        test "Hopper's healthy region: height above 0.7, angle in (-0.2, 0.2), qpos[2:] and qvel in (-100, 100), bounds excluded" {
            let region = LocomotionTask.Hopper.Health
            let healthy (z: float) (angle: float) (joint: float) (velocity: float) =
                region.Contains(ReadOnlySpan<float>([| 5.0; z; angle; joint; 0.0; 0.0 |]), ReadOnlySpan<float>([| velocity; 0.0; 0.0; 0.0; 0.0; 0.0 |]))
            Expect.isTrue (healthy 1.25 0.0 0.0 0.0) "standing"
            Expect.isFalse (healthy 0.7 0.0 0.0 0.0) "z = 0.7"
            Expect.isTrue (healthy 0.7000001 0.0 0.0 0.0) "just above 0.7"
            Expect.isTrue (healthy 50.0 0.0 0.0 0.0) "no upper height bound"
            Expect.isFalse (healthy 1.25 0.2 0.0 0.0) "angle = 0.2"
            Expect.isFalse (healthy 1.25 -0.2 0.0 0.0) "angle = -0.2"
            Expect.isTrue (healthy 1.25 0.1999999 0.0 0.0) "angle just inside"
            Expect.isFalse (healthy 1.25 0.0 100.0 0.0) "a joint at 100"
            Expect.isTrue (healthy 1.25 0.0 99.999 0.0) "a joint just inside"
            Expect.isFalse (healthy 1.25 0.0 0.0 -100.0) "x velocity at -100 (qvel is in the state vector)"
            Expect.isFalse (healthy nan 0.0 0.0 0.0) "NaN"
            Expect.isTrue (region.Contains(ReadOnlySpan<float>([| 1000.0; 1.25; 0.0; 0.0; 0.0; 0.0 |]), ReadOnlySpan<float>(Array.zeroCreate 6))) "x is not checked"
        }

        test "Walker2d's healthy region: height in (0.8, 2), angle in (-1, 1), bounds excluded, nothing else checked" {
            let region = LocomotionTask.Walker2d.Health
            let healthy (z: float) (angle: float) (velocity: float) =
                region.Contains(ReadOnlySpan<float>([| 0.0; z; angle; 0.0; 0.0; 0.0; 0.0; 0.0; 0.0 |]), ReadOnlySpan<float>(Array.create 9 velocity))
            Expect.isTrue (healthy 1.25 0.0 0.0) "standing"
            Expect.isFalse (healthy 0.8 0.0 0.0) "z = 0.8"
            Expect.isTrue (healthy 0.8000001 0.0 0.0) "just above 0.8"
            Expect.isFalse (healthy 2.0 0.0 0.0) "z = 2"
            Expect.isTrue (healthy 1.9999999 0.0 0.0) "just below 2"
            Expect.isFalse (healthy 1.25 1.0 0.0) "angle = 1"
            Expect.isFalse (healthy 1.25 -1.0 0.0) "angle = -1"
            Expect.isTrue (healthy 1.25 0.9999999 500.0) "fast is still healthy"
        }

        test "leaving the healthy region terminates the step, which still pays the healthy reward; HalfCheetah never terminates" {
            let after (task: LocomotionTask) (change: float[] -> float[] -> unit) =
                let e = make task
                reset e 1UL |> ignore
                let positions, velocities = qpos e, qvel e
                change positions velocities
                setState e positions velocities
                let result = step e (Array.zeroCreate e.Simulation.Nu)
                e, result
            let e, fallen = after LocomotionTask.Hopper (fun p _ -> p[2] <- 0.5)
            Expect.isTrue fallen.Terminated "Hopper tilted to 0.5 rad"
            Expect.isFalse fallen.Truncated "terminated, not truncated"
            Expect.isFalse e.IsHealthy "unhealthy"
            Expect.isGreaterThan fallen.Reward 0.5f "the healthy reward is paid on the terminating step"
            throwsWith<InvalidOperationException> "the episode is over" (fun () -> step e [| 0f; 0f; 0f |] |> ignore)
            Expect.isTrue (after LocomotionTask.Hopper (fun p _ -> p[1] <- 0.6) |> snd).Terminated "Hopper below 0.7 m"
            Expect.isTrue (after LocomotionTask.Hopper (fun _ v -> v[0] <- 150.0) |> snd).Terminated "Hopper faster than 100"
            Expect.isFalse (after LocomotionTask.Hopper (fun _ _ -> ()) |> snd).Terminated "Hopper at its start"
            Expect.isTrue (after LocomotionTask.Walker2d (fun p _ -> p[1] <- 2.5) |> snd).Terminated "Walker2d above 2 m"
            Expect.isTrue (after LocomotionTask.Walker2d (fun p _ -> p[2] <- -1.2) |> snd).Terminated "Walker2d tilted to -1.2 rad"
            Expect.isFalse (after LocomotionTask.Walker2d (fun p _ -> p[2] <- 0.9) |> snd).Terminated "Walker2d tilted to 0.9 rad"
            let cheetah, flipped = after LocomotionTask.HalfCheetah (fun p _ -> p[2] <- Math.PI)
            Expect.isFalse flipped.Terminated "HalfCheetah upside down"
            Expect.isTrue cheetah.IsHealthy "HalfCheetah has no healthy region"
        }

        test "start noise: qpos0 + U(-0.1, 0.1) and qvel 0.1 N(0, 1) for HalfCheetah, U(-0.005, 0.005) on both for Hopper and Walker2d" {
            let starts (task: LocomotionTask) =
                use e = make task
                let qpos0 = e.Simulation.Qpos0.ToArray()
                [ for seed in 0UL .. 299UL ->
                    let observation = reset e seed
                    Expect.equal observation (Array.append (qpos e).[1..] (qvel e) |> Array.map float32) "the observation shows the start"
                    Array.map2 (-) (qpos e) qpos0, qvel e ]
            let uniformOver (scale: float) (values: float[]) what =
                Expect.isTrue (values |> Array.forall (fun v -> v >= -scale && v < scale)) (what + ": within the range")
                Expect.isLessThan (Array.min values) (-0.98 * scale) (what + ": reaches the low end")
                Expect.isGreaterThan (Array.max values) (0.98 * scale) (what + ": reaches the high end")
                close (scale / 20.0) (Array.average values) 0.0 (what + ": centred")
            let cheetah = starts LocomotionTask.HalfCheetah
            uniformOver 0.1 (cheetah |> List.map fst |> Array.concat) "HalfCheetah positions"
            let velocities = cheetah |> List.map snd |> Array.concat
            close 0.006 (Array.average velocities) 0.0 "HalfCheetah velocities: mean 0"
            close 0.006 (sqrt (velocities |> Array.averageBy (fun v -> v * v))) 0.1 "HalfCheetah velocities: standard deviation 0.1"
            Expect.isGreaterThan (velocities |> Array.map abs |> Array.max) 0.25 "HalfCheetah velocities: normal tails, beyond the uniform range"
            for task in [ LocomotionTask.Hopper; LocomotionTask.Walker2d ] do
                let s = starts task
                uniformOver 0.005 (s |> List.map fst |> Array.concat) (task.Id + " positions")
                uniformOver 0.005 (s |> List.map snd |> Array.concat) (task.Id + " velocities")
        }

        test "the same seed gives the same trajectory; another seed another" {
            for task in LocomotionTask.All do
                let trajectory (seed: uint64) =
                    use e = make task
                    let first = reset e seed
                    let next = randomActions 77UL e.Simulation.Nu
                    first, continueFor e next 60
                Expect.equal (trajectory 9UL) (trajectory 9UL) (task.Id + ": same seed")
                Expect.notEqual (fst (trajectory 9UL)) (fst (trajectory 10UL)) (task.Id + ": another seed")
        }

        test "HalfCheetah runs its 1000 steps and is then truncated, not terminated" {
            use e = make LocomotionTask.HalfCheetah
            reset e 0UL |> ignore
            let results = [ for _ in 1..1000 -> step e (Array.zeroCreate 6) ]
            Expect.isFalse (results |> List.take 999 |> List.exists (fun r -> r.Done)) "nothing ends before step 1000"
            let last = List.last results
            Expect.isTrue (last.Truncated && not last.Terminated) "step 1000 is truncated"
            Expect.equal e.ElapsedSteps 1000 "1000 steps"
        }

        test "random policies score like the reference's: HalfCheetah about -280 per 1000 steps, Hopper and Walker2d fall within tens of steps" {
            use cheetah = make LocomotionTask.HalfCheetah
            let returns = randomEpisodes cheetah 3 1UL
            Expect.isTrue (returns |> List.forall (fun (_, length) -> length = 1000)) "HalfCheetah episodes last 1000 steps"
            let mean = returns |> List.averageBy fst
            Expect.isTrue (mean > -400.0 && mean < -150.0) (sprintf "HalfCheetah random return %.1f (D4RL's random reference: -280)" mean)
            for task in [ LocomotionTask.Hopper; LocomotionTask.Walker2d ] do
                use e = make task
                let episodes = randomEpisodes e 30 2UL
                let length = episodes |> List.averageBy (snd >> float)
                let meanReturn = episodes |> List.averageBy fst
                Expect.isTrue (length > 12.0 && length < 60.0) (sprintf "%s random episodes last %.1f steps" task.Id length)
                Expect.isTrue (episodes |> List.forall (fun (_, l) -> l < 1000)) (task.Id + ": every random episode terminates early")
                Expect.isTrue (meanReturn > -20.0 && meanReturn < 60.0) (sprintf "%s random return %.1f" task.Id meanReturn)
        }

        test "save, then continue, equals restore into a fresh copy, then continue, bit for bit" {
            for task in LocomotionTask.All do
                use e = make task
                reset e 21UL |> ignore
                let warmUp = randomActions 5UL e.Simulation.Nu
                continueFor e warmUp 8 |> ignore
                let atSave = e.Observation.ToArray()
                let saved = Snapshot.Capture e
                let original = continueFor e (randomActions 6UL e.Simulation.Nu) 40
                use restored = make task
                reset restored 999UL |> ignore
                Snapshot.Restore(restored, saved)
                Expect.equal (restored.Observation.ToArray()) atSave (task.Id + ": the observation is restored")
                let replayed = continueFor restored (randomActions 6UL e.Simulation.Nu) 40
                Expect.equal replayed original (task.Id + ": the same continuation")
                Expect.isGreaterThan original.Length 5 "several steps compared"
                // Back into the copy that ran on: the same continuation again.
                reset e 3UL |> ignore
                Snapshot.Restore(e, saved)
                Expect.equal (continueFor e (randomActions 6UL e.Simulation.Nu) 40) original (task.Id + ": restored in place")
        }

        test "a saved state of another task or another engine state is refused" {
            use hopper = make LocomotionTask.Hopper
            use walker = make LocomotionTask.Walker2d
            reset hopper 0UL |> ignore
            reset walker 0UL |> ignore
            throwsWith<Prunerl.Agents.Checkpoints.CheckpointException> "holds the state of mujoco/hopper, not of mujoco/walker2d" (fun () -> Snapshot.Restore(walker, Snapshot.Capture hopper))
            throwsWith<Prunerl.Agents.Checkpoints.CheckpointException> "sizes (nq, nv, na, nu, nbody) = (6, 6, 0, 3, 5)" (fun () -> Snapshot.Restore(walker.Simulation, Snapshot.Capture hopper.Simulation))
        }

        test "a side view follows the torso; drawing does not change the trajectory" {
            for task in LocomotionTask.All do
                use drawn = make task
                use plain = make task
                reset drawn 4UL |> ignore
                reset plain 4UL |> ignore
                let frame = drawn.Render()
                Expect.equal (frame.Width, frame.Height) (480, 320) "size"
                let colours = seq { for y in 0 .. frame.Height - 1 do for x in 0 .. frame.Width - 1 -> frame[x, y] } |> Seq.distinct |> List.ofSeq
                Expect.contains colours (Rgb(204uy, 230uy, 204uy)) (task.Id + ": the ground")
                Expect.contains colours (Rgb(204uy, 153uy, 102uy)) (task.Id + ": the body, in its model colour")
                let nextDrawn, nextPlain = randomActions 8UL drawn.Simulation.Nu, randomActions 8UL plain.Simulation.Nu
                for _ in 1..20 do
                    drawn.Render() |> ignore
                    let a, b = step drawn (nextDrawn ()), step plain (nextPlain ())
                    Expect.equal a b "same step results"
                    Expect.equal (drawn.Observation.ToArray()) (plain.Observation.ToArray()) "same observations"
                    if a.Done then
                        reset drawn 4UL |> ignore
                        reset plain 4UL |> ignore
        }

        test "the registry makes them, vectorised too, and lists them as available here" {
            for task in LocomotionTask.All do
                let entry = EnvironmentRegistry.Entries |> Seq.find (fun e -> e.Id = task.Id)
                Expect.isNull entry.UnavailableReason (task.Id + " is available")
                Expect.equal (EnvironmentRegistry.Create(task.Id).Id) task.Id "created by id"
            let vector = EnvironmentRegistry.CreateVector("mujoco/hopper", 3)
            vector.Reset 5UL
            let next = randomActions 3UL 9
            let mutable ended = 0
            for _ in 1..80 do
                vector.Step(ReadOnlySpan<float32>(next ()))
                for i in 0..2 do if vector.EpisodeEnded[i] then ended <- ended + 1
            Expect.isGreaterThan ended 0 "random hoppers fall and are reset"
        }

        test "prunerl envs lists the tasks, renders a hopper, and bench envs measures one" {
            let listing = CliTests.prunerl [ "envs" ]
            Expect.equal listing.ExitCode 0 (describe listing)
            Expect.stringContains listing.Output "mujoco/hopper             Box([11])         Box([3])" "the Hopper's spaces"
            let out = Path.Combine(Path.GetTempPath(), "prunerl-hopper-" + Guid.NewGuid().ToString("N") + ".png")
            try
                let r = CliTests.prunerl [ "envs"; "--render"; "mujoco/hopper"; "--frames"; "2"; "--out"; out ]
                Expect.equal r.ExitCode 0 (describe r)
                let png = File.ReadAllBytes out
                let be (i: int) = (int png[i] <<< 24) ||| (int png[i + 1] <<< 16) ||| (int png[i + 2] <<< 8) ||| int png[i + 3]
                Expect.equal (be 16, be 20) (2 * 480 + 4, 320) "two frames side by side"
            finally
                File.Delete out
            let bench = CliTests.prunerl [ "bench"; "envs"; "--env"; "mujoco/halfcheetah"; "--seconds"; "0.2"; "--copies"; "2" ]
            Expect.equal bench.ExitCode 0 (describe bench)
            Expect.stringContains bench.Output "mujoco/halfcheetah" "a row for HalfCheetah"
        }
    ]

[<Tests>]
let tests = testList "mujoco" [ bindingTests; taskTests ]
