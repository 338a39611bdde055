namespace Prunerl.Experiments

open System
open Prunerl.Core
open Prunerl.Core.Validate

/// The optimizer of an agent's online network.
type OptimizerConfig =
    /// Adam (Kingma and Ba 2015) with PyTorch's formulation.
    | Adam of learningRate: float * epsilon: float
    /// RMSProp (Tieleman and Hinton 2012) as PyTorch's: smoothing alpha, epsilon, centered or not.
    | RmsProp of learningRate: float * alpha: float * epsilon: float * centered: bool

/// The TD loss of an expected-value agent (a distributional agent's loss is C51's cross-entropy).
[<RequireQualifiedAccess>]
type TdLoss =
    /// (Q - target)^2: Dopamine's JAX DQN default (dopamine/jax/agents/dqn/dqn_agent.py, loss_type='mse';
    /// losses.mse_loss).
    | Squared
    /// Huber with delta 1: the Nature DQN's, MinAtar's examples/dqn.py (smooth_l1_loss), labs/redo's.
    | Huber

/// How prioritized replay draws a batch.
[<RequireQualifiedAccess>]
type PrioritySampling =
    /// Each transition independently in proportion to its priority: Dopamine's JAX sampler
    /// (dopamine/jax/replay_memory/samplers.py, PrioritizedSamplingDistribution.sample: uniform targets in
    /// [0, total priority) looked up in the sum tree).
    | Iid
    /// The total priority split into batch-size equal segments, one draw in each (Schaul et al. 2016; Dopamine's
    /// older TF replay, prioritized_replay_buffer.py and sum_tree.py's stratified_sample).
    | Stratified

/// How replayed transitions are drawn.
type ReplayScheme =
    /// Uniformly.
    | UniformReplay
    /// In proportion to priority^alpha, with importance weights (N P(i))^-beta, beta annealed linearly
    /// from betaStart to 1 over betaSteps agent steps (Schaul et al. 2016).
    | PrioritizedReplay of alpha: float * betaStart: float * betaSteps: int64

/// A value-based agent's hyperparameters (DQN and the Rainbow family), in agent steps unless named
/// otherwise. Presets follow Dopamine's gin files; make one with a preset and `with`, then validate.
type AgentConfig =
    { /// Discount factor.
      Gamma: float
      /// n of n-step returns (1 for DQN).
      NStep: int
      /// Transitions the replay memory holds.
      ReplayCapacity: int
      /// Transitions per gradient update.
      BatchSize: int
      /// Agent steps before learning starts (and before epsilon starts to fall).
      MinReplay: int64
      /// Agent steps between gradient updates (Dopamine's update_period; 1 / replay ratio).
      UpdatePeriod: int
      /// Gradient updates per update step (raise it for a higher replay ratio).
      UpdatesPerStep: int
      /// Agent steps between copies of the online network into the target network.
      TargetUpdatePeriod: int64
      /// Exploration while training: epsilon falls linearly from 1 to EpsilonTrain over EpsilonDecaySteps.
      EpsilonTrain: float
      /// Agent steps over which epsilon falls, after MinReplay.
      EpsilonDecaySteps: int64
      /// Exploration while evaluating.
      EpsilonEval: float
      /// The online network's optimizer.
      Optimizer: OptimizerConfig
      /// The TD loss of expected values.
      Loss: TdLoss
      /// Double Q-learning's target (van Hasselt et al. 2016): the online network picks the next action.
      DoubleQ: bool
      /// Atoms of the C51 distribution (Bellemare et al. 2017); 1 for expected values.
      Atoms: int
      /// The lower end of the C51 support.
      VMin: float
      /// The upper end of the C51 support.
      VMax: float
      /// Value and advantage streams (Wang et al. 2016).
      Dueling: bool
      /// How transitions are drawn from the replay memory.
      Replay: ReplayScheme
      /// How prioritized replay draws a batch.
      PrioritySampling: PrioritySampling
      /// Noisy networks (Fortunato et al. 2018): every fully connected layer (the torso's dense layers and the
      /// head; convolutions stay plain, as in Dopamine's FullRainbowNetwork) carries factorised Gaussian noise
      /// on its weights, drawn afresh for every forward pass that acts or learns (online and target
      /// independently) and off in evaluation; training explores by the noise alone (epsilon 0, Dopamine's zero_epsilon).
      Noisy: bool
      /// The noise's initial scale sigma0: a noisy layer of p inputs starts with sigma = sigma0 / sqrt(p)
      /// (Fortunato et al. 2018, sec. 3.2, who use 0.5 for factorised noise; Dopamine's NoisyNetwork, which
      /// DER runs on, uses 0.1).
      NoisySigma0: float
      /// DrQ's data augmentation (Kostrikov et al. 2020) of every replayed batch: observations and next
      /// observations each get an independent random shift per sample (ShiftPadding) and intensity noise
      /// (IntensityScale). Needs [channels, height, width] observations.
      Augment: bool
      /// The random shift's reach: each frame is padded by this many pixels on every side, replicating its
      /// edge, and cropped back at a uniformly random offset, the same for all of a sample's channels.
      ShiftPadding: int
      /// Intensity noise: each augmented sample is multiplied by 1 + scale * clip(z, -2, 2), z ~ N(0, 1)
      /// (Dopamine's _intensity_aug after Schwarzer et al. 2021); 0 for none.
      IntensityScale: float }

/// Presets and validation of agent configurations.
[<RequireQualifiedAccess>]
module AgentConfig =

    /// Dopamine's DQN (JAX): gamma 0.99, 1-step, replay 1M, batch 32, learning from 20k agent steps,
    /// an update every 4 steps, target copy every 8000, epsilon 1 -> 0.01 over 250k (0.001 in
    /// evaluation), Adam lr 6.25e-5 eps 1.5e-4, the squared TD error (loss_type 'mse', dqn_agent.py's default since
    /// Dopamine's 2022 change; Huber before), uniform replay.
    let dopamineDqn =
        { Gamma = 0.99
          NStep = 1
          ReplayCapacity = 1_000_000
          BatchSize = 32
          MinReplay = 20_000L
          UpdatePeriod = 4
          UpdatesPerStep = 1
          TargetUpdatePeriod = 8000L
          EpsilonTrain = 0.01
          EpsilonDecaySteps = 250_000L
          EpsilonEval = 0.001
          Optimizer = Adam(6.25e-5, 1.5e-4)
          Loss = TdLoss.Squared
          DoubleQ = false
          Atoms = 1
          VMin = -10.0
          VMax = 10.0
          Dueling = false
          Replay = UniformReplay
          PrioritySampling = PrioritySampling.Iid
          Noisy = false
          NoisySigma0 = 0.1
          Augment = false
          ShiftPadding = 4
          IntensityScale = 0.05 }

    /// Dopamine's Rainbow (JAX): DQN's settings with C51 over 51 atoms on [-10, 10], 3-step returns and
    /// prioritized replay (Dopamine samples in proportion to sqrt of the loss and weights by 1/sqrt(P):
    /// alpha 0.5, beta 0.5 held constant).
    let dopamineRainbow =
        { dopamineDqn with
            NStep = 3
            Atoms = 51
            Replay = PrioritizedReplay(0.5, 0.5, 0L) }

    /// Dopamine's DQN for MinAtar (dopamine/labs/environments/minatar/dqn.gin): Dopamine's DQN with Adam lr
    /// 2.5e-4 eps 3.125e-4, replay 100k, learning from 1000 agent steps, an update every 4 steps (replay
    /// ratio 0.25, the paper's), target copy every 1000; gamma 0.99, 1-step, batch 32, epsilon 1 -> 0.01
    /// over 250k (0.001 in evaluation) and the Huber loss stay Dopamine's DQN's. The paper's protocol on MinAtar.
    let dopamineMinatarDqn =
        { dopamineDqn with
            ReplayCapacity = 100_000
            MinReplay = 1000L
            UpdatePeriod = 4
            TargetUpdatePeriod = 1000L
            Optimizer = Adam(2.5e-4, 3.125e-4) }

    /// Dopamine's Rainbow for MinAtar (dopamine/labs/environments/minatar/rainbow.gin): the MinAtar DQN's
    /// settings with C51 over 51 atoms on [-100, 100] (vmax 100: MinAtar's discounted returns exceed 10),
    /// 3-step returns and Dopamine's prioritized replay (alpha 0.5, beta 0.5 held); no double Q.
    let dopamineMinatarRainbow =
        { dopamineMinatarDqn with
            NStep = 3
            Atoms = 51
            VMin = -100.0
            VMax = 100.0
            Replay = PrioritizedReplay(0.5, 0.5, 0L) }

    /// The reference MinAtar DQN (Young and Tian 2019): replay 100k, batch 32, learning from 5000 steps,
    /// an update every step, target copy every 1000, epsilon 1 -> 0.1 over 100k, RMSProp lr 2.5e-4,
    /// alpha 0.95, centered, eps 0.01, Huber loss (MinAtar examples/dqn.py: smooth_l1_loss).
    let minatarDqn =
        { dopamineDqn with
            Loss = TdLoss.Huber
            ReplayCapacity = 100_000
            MinReplay = 5000L
            UpdatePeriod = 1
            TargetUpdatePeriod = 1000L
            EpsilonTrain = 0.1
            EpsilonDecaySteps = 100_000L
            Optimizer = RmsProp(2.5e-4, 0.95, 0.01, true) }

    /// A DQN that solves CartPole-v1 in tens of thousands of steps (after the RL Baselines3 Zoo's tuned
    /// DQN): replay 50k, batch 64, learning from 1000 steps, an update every 2 steps, target copy every
    /// 256, epsilon 1 -> 0.04 over 8000 steps (0 in evaluation), Adam lr 2.3e-3, double Q.
    let cartpoleDqn =
        { dopamineDqn with
            ReplayCapacity = 50_000
            BatchSize = 64
            MinReplay = 1000L
            UpdatePeriod = 2
            TargetUpdatePeriod = 256L
            EpsilonTrain = 0.04
            EpsilonDecaySteps = 8000L
            EpsilonEval = 0.0
            Optimizer = Adam(2.3e-3, 1e-8)
            Loss = TdLoss.Huber
            DoubleQ = true }

    /// Data-efficient Rainbow (van Hasselt et al. 2019, "When to use parametric models in reinforcement
    /// learning?") as Dopamine's dopamine/labs/atari_100k/configs/DER.gin sets it: gamma 0.99, 10-step
    /// returns (update_horizon 10, "as done by SPR" instead of DER's 20), learning from 1600 agent steps,
    /// an update every step (update_period 1, num_updates_per_train_step 1: replay ratio 1), target copy
    /// every 2000 steps, Adam lr 1e-4 eps 1.5e-4 (create_optimizer), batch 32, replay 1M ("a proxy for
    /// unbounded memory"), noisy nets, dueling, double DQN, C51 over 51 atoms on [-10, 10] (vmax 10, vmin
    /// -vmax), noise of initial scale sigma0 0.1 in the dense layer and the head (dopamine/jax/networks.py's
    /// NoisyNetwork in FullRainbowNetwork), Dopamine's prioritized replay (alpha 0.5, beta 0.5 held) and no augmentation
    /// (data_augmentation False). epsilon_train 0.01 over 2000 steps and epsilon_eval 0.001 are the gin's,
    /// but with noisy nets Dopamine trains with zero_epsilon, so only epsilon_eval acts (Exploration.trainingEpsilon).
    let der =
        { dopamineDqn with
            NStep = 10
            MinReplay = 1600L
            UpdatePeriod = 1
            UpdatesPerStep = 1
            TargetUpdatePeriod = 2000L
            EpsilonTrain = 0.01
            EpsilonDecaySteps = 2000L
            EpsilonEval = 0.001
            Optimizer = Adam(1e-4, 1.5e-4)
            Loss = TdLoss.Huber
            DoubleQ = true
            Atoms = 51
            VMin = -10.0
            VMax = 10.0
            Dueling = true
            Replay = PrioritizedReplay(0.5, 0.5, 0L)
            Noisy = true
            NoisySigma0 = 0.1
            Augment = false }

    /// DrQ(epsilon): DrQ (Kostrikov et al. 2020) with the exploration of Agarwal et al. (2021, "Deep RL at
    /// the edge of the statistical precipice", sec. 4) as Dopamine's dopamine/labs/atari_100k/configs/DrQ_eps.gin
    /// sets it: DER's gamma, 10-step returns, 1600-step warm-up, update every step, Adam lr 1e-4 eps 1.5e-4
    /// and batch 32, with the target copied every step (target_update_period 1), epsilon 1 -> 0.01 over
    /// 5000 steps (0.001 in evaluation), no noisy nets, expected values (num_atoms 1, not distributional),
    /// dueling and double DQN kept, uniform replay, and data augmentation on (Atari100kRainbowAgent's
    /// drq_image_augmentation: replicate padding of 4 pixels and a random crop back to the frame, then
    /// intensity noise of scale 0.05).
    let drqEpsilon =
        { der with
            TargetUpdatePeriod = 1L
            EpsilonTrain = 0.01
            EpsilonDecaySteps = 5000L
            EpsilonEval = 0.001
            Noisy = false
            Atoms = 1
            Replay = UniformReplay
            Augment = true
            ShiftPadding = 4
            IntensityScale = 0.05 }

    /// Offline CQL+C51 as the paper ran it (Obando-Ceron et al. 2024, Table 3; Dopamine
    /// labs/offline_rl/jax/configs/jax_rainbow.gin): on the offline clock (a step is a gradient update, learning
    /// from the first), C51 over 51 atoms on [vMin, vMax], 3-step returns, dueling, double DQN, Adam lr 6.25e-5
    /// eps 1.5e-4, the target copied every 100 updates (jax_rainbow.gin's target_update_period), batch 32,
    /// uniform draws from the dataset; the CQL coefficient is ConservativeWeight.paper.
    let paperCqlC51 (vMin: float) (vMax: float) =
        { dopamineDqn with
            MinReplay = 0L
            UpdatePeriod = 1
            UpdatesPerStep = 1
            TargetUpdatePeriod = 100L
            NStep = 3
            Atoms = 51
            VMin = vMin
            VMax = vMax
            Dueling = true
            DoubleQ = true
            Optimizer = Adam(6.25e-5, 1.5e-4) }

    /// Offline CQL (expected values) as the paper ran it (Table 3: Adam lr 5e-5 eps 3.125e-4), on the offline
    /// clock, with Dopamine's offline CQL agent's other settings (labs/offline_rl/jax/configs/jax_classy_cql.gin:
    /// 1-step, double DQN, no dueling, target copied every 2000 updates) and the squared TD error of Dopamine's
    /// DQN; the CQL coefficient is ConservativeWeight.paper.
    let paperCql =
        { dopamineDqn with
            MinReplay = 0L
            UpdatePeriod = 1
            UpdatesPerStep = 1
            TargetUpdatePeriod = 2000L
            DoubleQ = true
            Optimizer = Adam(5e-5, 3.125e-4) }

    /// The random shift's padding for frames of side `side`, in proportion to DrQ's 4 pixels on Atari's
    /// 84x84 frames: max 1 (round (4 side / 84)). MinAtar's 10x10 frames get 1 (4 pixels would shift a
    /// 10-pixel frame by up to 40%, moving objects across most of the board, where DrQ's shifts are under 5%).
    let proportionalShiftPadding (side: int) : int = max 1 (int (Math.Round(4.0 * float side / 84.0)))

    /// Gradient updates in a run of `steps` agent steps, as the training loop takes them: an update step
    /// is every step s with min_replay &lt; s &lt;= steps and s mod update_period = 0, and each takes
    /// updates_per_step updates: (floor(steps / period) - floor(min_replay / period)) * updates_per_step,
    /// or 0 when steps &lt;= min_replay. The pruning schedule's length.
    let gradientUpdates (c: AgentConfig) (steps: int64) : int64 =
        let period = int64 c.UpdatePeriod
        if steps <= c.MinReplay then 0L
        else (steps / period - c.MinReplay / period) * int64 c.UpdatesPerStep

    /// The agent step at which gradient update u (counted from 0, as the pruner reads it) is taken: the
    /// (u / updates_per_step + 1)-th update step, (floor(min_replay / period) + u / updates_per_step + 1) * period.
    let stepOfUpdate (c: AgentConfig) (update: int64) : int64 =
        let period = int64 c.UpdatePeriod
        (c.MinReplay / period + update / int64 c.UpdatesPerStep + 1L) * period

    /// The same agent on an offline run's clock, where a step is one gradient update from a fixed dataset
    /// (Agarwal et al. 2020's fixed-replay agents never wait for their memory to fill): learning from the
    /// first step (MinReplay 0), one update per step (UpdatePeriod 1, UpdatesPerStep 1), and the target
    /// copied every TargetUpdatePeriod / UpdatePeriod updates (at least 1), as often in updates as online.
    let offlineClock (c: AgentConfig) =
        { c with
            MinReplay = 0L
            UpdatePeriod = 1
            UpdatesPerStep = 1
            TargetUpdatePeriod = max 1L (c.TargetUpdatePeriod / int64 c.UpdatePeriod) }

    let private positiveInt field (n: int64) = atLeast field 1L n |> Result.map ignore

    /// Checks every field's range; the first failure names the field and its range.
    let validate (c: AgentConfig) : Result<AgentConfig, string> =
        result {
            do! inClosed "gamma" 0.0 1.0 c.Gamma |> Result.map ignore
            do! positiveInt "n_step" (int64 c.NStep)
            do! positiveInt "batch_size" (int64 c.BatchSize)
            do!
                if c.ReplayCapacity >= c.BatchSize then Ok()
                else Error(sprintf "replay_capacity must be >= batch_size (%d), got %d" c.BatchSize c.ReplayCapacity)
            do!
                // Agents.CSharp/Replay/ReplayOptions.cs: a window of n transitions and the observation after them fit in the replay.
                if c.ReplayCapacity > c.NStep then Ok()
                else Error(sprintf "n_step must be < replay_capacity (%d): the replay holds n transitions and the observation after them, got %d" c.ReplayCapacity c.NStep)
            do! atLeast "min_replay" 0L c.MinReplay |> Result.map ignore
            do! positiveInt "update_period" (int64 c.UpdatePeriod)
            do! positiveInt "updates_per_step" (int64 c.UpdatesPerStep)
            do! positiveInt "target_update_period" c.TargetUpdatePeriod
            do! inClosed "epsilon_train" 0.0 1.0 c.EpsilonTrain |> Result.map ignore
            do! atLeast "epsilon_decay_steps" 0L c.EpsilonDecaySteps |> Result.map ignore
            do! inClosed "epsilon_eval" 0.0 1.0 c.EpsilonEval |> Result.map ignore
            do!
                match c.Optimizer with
                | Adam(lr, eps) ->
                    result {
                        do! positive "learning_rate" lr |> Result.map ignore
                        do! positive "adam_epsilon" eps |> Result.map ignore
                    }
                | RmsProp(lr, alpha, eps, _) ->
                    result {
                        do! positive "learning_rate" lr |> Result.map ignore
                        do! inHalfOpen "rmsprop_alpha" 0.0 1.0 alpha |> Result.map ignore
                        do! positive "rmsprop_epsilon" eps |> Result.map ignore
                    }
            do! positiveInt "atoms" (int64 c.Atoms)
            do! positive "noisy_sigma0" c.NoisySigma0 |> Result.map ignore
            do! atLeast "shift_padding" 0L (int64 c.ShiftPadding) |> Result.map ignore
            do!
                if Double.IsFinite c.IntensityScale && c.IntensityScale >= 0.0 && c.IntensityScale < 0.5 then Ok()
                else Error(sprintf "intensity_scale must be in [0, 0.5) (so that 1 + scale * clip(z, -2, 2) stays positive), got %s" (show c.IntensityScale))
            do!
                if not c.Augment || c.ShiftPadding >= 1 || c.IntensityScale > 0.0 then Ok()
                else Error "augmentation needs shift_padding >= 1 or intensity_scale > 0, got 0 and 0"
            do!
                if Double.IsFinite c.VMin then Ok()
                else Error(sprintf "v_min must be a finite number, got %s" (show c.VMin))
            do!
                if Double.IsFinite c.VMax then Ok()
                else Error(sprintf "v_max must be a finite number, got %s" (show c.VMax))
            do!
                if c.Atoms = 1 || c.VMax > c.VMin then Ok()
                else Error(sprintf "v_max must be > v_min (%s), got %s" (show c.VMin) (show c.VMax))
            do!
                match c.Replay with
                | UniformReplay -> Ok()
                | PrioritizedReplay(alpha, beta, steps) ->
                    result {
                        do! inClosed "priority_alpha" 0.0 1.0 alpha |> Result.map ignore
                        do! inClosed "priority_beta" 0.0 1.0 beta |> Result.map ignore
                        do! atLeast "priority_beta_steps" 0L steps |> Result.map ignore
                    }
            return c
        }

/// Exploration and importance-sampling schedules of the agents.
[<RequireQualifiedAccess>]
module Exploration =

    /// Dopamine's linearly_decaying_epsilon: 1 until `warmup` steps, then linear down to `final` over
    /// `decay` steps, then `final`: final + clip((1 - final) * (decay + warmup - step) / decay, 0, 1 - final).
    let epsilon (decay: int64) (warmup: int64) (final: float) (step: int64) : float =
        if decay <= 0L then (if step < warmup then 1.0 else final)
        else
            let bonus = (1.0 - final) * float (decay + warmup - step) / float decay
            final + max 0.0 (min (1.0 - final) bonus)

    /// The training policy's epsilon at a step: 0 for noisy networks, which explore by their noise
    /// (Dopamine's zero_epsilon when noisy), else `epsilon` with the config's decay, warm-up and final value.
    let trainingEpsilon (c: AgentConfig) (step: int64) : float =
        if c.Noisy then 0.0 else epsilon c.EpsilonDecaySteps c.MinReplay c.EpsilonTrain step

    /// Prioritized replay's beta at a step: betaStart rising linearly to 1 over `steps` (held at
    /// betaStart when steps = 0, as Dopamine's constant 0.5).
    let beta (betaStart: float) (steps: int64) (step: int64) : float =
        if steps <= 0L then betaStart
        else betaStart + (1.0 - betaStart) * (min 1.0 (max 0.0 (float step / float steps)))

/// Soft actor-critic's hyperparameters (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and
/// Applications", arXiv:1812.05905, Table 1), in agent steps unless named otherwise: twin Q critics
/// with Polyak-averaged targets, a tanh-squashed Gaussian actor, and an entropy temperature alpha
/// tuned toward a target entropy. The networks' shape and width are the run's network spec.
type SacConfig =
    { /// Discount factor.
      Gamma: float
      /// Target smoothing: after each update, target <- tau * online + (1 - tau) * target.
      Tau: float
      /// Transitions the replay memory holds.
      ReplayCapacity: int
      /// Transitions per gradient update.
      BatchSize: int
      /// Agent steps of uniformly random actions before the actor acts and learning starts.
      MinReplay: int64
      /// Agent steps between update steps (1 / replay ratio when one update per step).
      UpdatePeriod: int
      /// Gradient updates per update step: the replay ratio is UpdatesPerStep / UpdatePeriod.
      UpdatesPerStep: int
      /// Adam's learning rate for the actor.
      ActorLearningRate: float
      /// Adam's learning rate for both critics.
      CriticLearningRate: float
      /// Adam's learning rate for log alpha.
      AlphaLearningRate: float
      /// The entropy temperature alpha at the start.
      InitialAlpha: float
      /// The target entropy per action dimension: the target is this times |A| (-1: the paper's -|A|).
      TargetEntropyPerDimension: float
      /// Rewards are multiplied by this before they enter the critics' targets.
      RewardScale: float
      /// The L2 term lambda * sum w^2 over the actor's and critics' kernels in their losses (0: none).
      KernelL2: float }

/// Presets and validation of SAC configurations.
[<RequireQualifiedAccess>]
module SacConfig =

    /// Haarnoja et al. (2018b), Table 1, with the common implementations' defaults (Stable-Baselines3,
    /// CleanRL): gamma 0.99, tau 0.005, Adam lr 3e-4 for actor, critics and alpha, batch 256, replay 1M,
    /// 256-256 MLPs (the network spec's), target entropy -|A|, 10,000 random-action warm-up steps (the
    /// paper's MuJoCo setting), one update per agent step, alpha starting at 1.
    let haarnoja =
        { Gamma = 0.99
          Tau = 0.005
          ReplayCapacity = 1_000_000
          BatchSize = 256
          MinReplay = 10_000L
          UpdatePeriod = 1
          UpdatesPerStep = 1
          ActorLearningRate = 3e-4
          CriticLearningRate = 3e-4
          AlphaLearningRate = 3e-4
          InitialAlpha = 1.0
          TargetEntropyPerDimension = -1.0
          RewardScale = 1.0
          KernelL2 = 0.0 }

    /// SAC as the pruning paper ran it, on google-research/rigl's rl/tfagents SAC (Obando-Ceron et al. 2024,
    /// sec. 4 and Appendix A): rewards scaled by 0.1 (sac_train_eval.py's reward_scale_factor), an L2 term of 1e-4
    /// on the kernels (the dense configs' weight_decay, applied as Keras's L2 kernel regulariser), the target
    /// entropy TF-Agents' default -|A| / 2, 1000 initial collect steps (the configs' initial_collect_steps), and
    /// Haarnoja et al.'s lr 3e-4, batch 256, tau 0.005, gamma 0.99 (the code's defaults). The paper widens the
    /// 256-256 networks 5 times on MuJoCo (the run's width).
    let rigl =
        { haarnoja with
            MinReplay = 1000L
            TargetEntropyPerDimension = -0.5
            RewardScale = 0.1
            KernelL2 = 1e-4 }

    /// Pendulum-v1 in a few thousand steps (after the RL Baselines3 Zoo's tuned SAC for Pendulum:
    /// learning rate 1e-3 for all three): the paper's settings with lr 1e-3 and a 1000-step warm-up.
    let pendulum =
        { haarnoja with
            MinReplay = 1000L
            ActorLearningRate = 1e-3
            CriticLearningRate = 1e-3
            AlphaLearningRate = 1e-3 }

    /// Gradient updates per agent step: UpdatesPerStep / UpdatePeriod.
    let replayRatio (c: SacConfig) : float = float c.UpdatesPerStep / float c.UpdatePeriod

    /// Checks every field's range; the first failure names the field and its range.
    let validate (c: SacConfig) : Result<SacConfig, string> =
        result {
            do! inClosed "gamma" 0.0 1.0 c.Gamma |> Result.map ignore
            do!
                if Double.IsFinite c.Tau && c.Tau > 0.0 && c.Tau <= 1.0 then Ok()
                else Error(sprintf "tau must be in (0, 1], got %s" (show c.Tau))
            do! atLeast "batch_size" 1L (int64 c.BatchSize) |> Result.map ignore
            do!
                if c.ReplayCapacity >= c.BatchSize then Ok()
                else Error(sprintf "replay_capacity must be >= batch_size (%d), got %d" c.BatchSize c.ReplayCapacity)
            do! atLeast "min_replay" 0L c.MinReplay |> Result.map ignore
            do! atLeast "update_period" 1L (int64 c.UpdatePeriod) |> Result.map ignore
            do! atLeast "updates_per_step" 1L (int64 c.UpdatesPerStep) |> Result.map ignore
            do! positive "actor_learning_rate" c.ActorLearningRate |> Result.map ignore
            do! positive "critic_learning_rate" c.CriticLearningRate |> Result.map ignore
            do! positive "alpha_learning_rate" c.AlphaLearningRate |> Result.map ignore
            do! positive "initial_alpha" c.InitialAlpha |> Result.map ignore
            do! positive "reward_scale" c.RewardScale |> Result.map ignore
            do!
                if Double.IsFinite c.KernelL2 && c.KernelL2 >= 0.0 && c.KernelL2 < 1.0 then Ok()
                else Error(sprintf "kernel_l2 must be in [0, 1), got %s" (show c.KernelL2))
            do!
                if Double.IsFinite c.TargetEntropyPerDimension then Ok()
                else Error(sprintf "target_entropy (per action dimension) must be a finite number, got %s" (show c.TargetEntropyPerDimension))
            return c
        }

/// CQL's weight alpha (Kumar, Zhou, Tucker and Levine 2020, eq. 4: alpha times
/// E_s[logsumexp_a Q(s, a) - Q(s, a_data)] added to the TD loss) as the published offline Atari agents set it.
[<RequireQualifiedAccess>]
module ConservativeWeight =

    /// CQL on a DQN-style (expected-value) agent: 1.0, the CQL reference code's Atari setting for 10% of
    /// the DQN Replay Dataset (github.com/aviralkumar2907/CQL, atari/README: "For 1% data, use
    /// minq_weight=4.0 and for 10% data, use minq_weight=1.0"; its agent is QR-DQN).
    let dqn = 1.0

    /// CQL+C51: 0.1, the CQL coefficient of Dopamine's offline C51 agents (dopamine/labs/offline_rl,
    /// OfflineJaxRainbowAgent.bc_coefficient = 0.1 in jax_rainbow.gin and jax_classy_cql.gin: "Coefficient
    /// for the CQL loss", the same logsumexp_a Q - Q(a_data) term), the code the DR3 line of work (Kumar et
    /// al. 2021) and the pruning paper's offline experiments build on.
    let c51 = 0.1

    /// The pruning paper's CQL coefficient for both CQL and CQL+C51: 0.1 (Obando-Ceron et al. 2024, Table 3).
    let paper = 0.1

/// The replay ratio (gradient updates per agent step), every agent's knob, and how the loop takes it.
[<RequireQualifiedAccess>]
module ReplayRatio =

    /// The replay ratio (gradient updates per agent step) of a configuration: updates_per_step / update_period.
    let ofAgent (c: AgentConfig) : float = float c.UpdatesPerStep / float c.UpdatePeriod

    /// A replay ratio as the loop takes it: a whole number r >= 1 is r updates every step, 1/k an
    /// update every k steps; anything else is refused, naming what is allowed.
    let schedule (ratio: float) : Result<int * int, string> =
        let refuse () =
            Error(sprintf "replay_ratio must be a whole number of updates per step (1, 2, 4, ...) or 1/k, an update every k steps (0.5, 0.25, ...), got %s" (show ratio))
        if not (Double.IsFinite ratio && ratio > 0.0) then refuse ()
        elif ratio >= 1.0 then
            if Math.Floor ratio = ratio && ratio <= 1e6 then Ok(1, int ratio) else refuse ()
        else
            let k = Math.Round(1.0 / ratio)
            if k <= 1e9 && abs (1.0 / k - ratio) <= 1e-12 * ratio then Ok(int k, 1) else refuse ()
