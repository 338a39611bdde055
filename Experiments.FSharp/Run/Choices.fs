namespace Prunerl.Experiments

open System
open Prunerl.Core
open Prunerl.Core.Validate

/// Which agent a run trains: the DQN family online (discrete actions), SAC (continuous actions), or
/// the DQN family offline from a recorded dataset (CQL, CQL+C51).
[<RequireQualifiedAccess>]
type AgentKind =
    /// DQN (Mnih et al. 2015) with the environment family's preset.
    | Dqn
    /// Rainbow as Dopamine builds it (Hessel et al. 2018): the family's DQN with C51 over 51 atoms,
    /// 3-step returns and prioritized replay (alpha 0.5, beta 0.5), without double Q.
    | Rainbow
    /// Data-efficient Rainbow (van Hasselt et al. 2019) for the 100k-interaction budget: AgentConfig.der.
    | Der
    /// DrQ(epsilon) (Kostrikov et al. 2020; Agarwal et al. 2021) for the 100k-interaction budget: AgentConfig.drqEpsilon.
    | Drq
    /// Soft actor-critic (Haarnoja et al. 2018) for continuous actions; its hyperparameters are RunConfig.Sac.
    | Sac
    /// Offline CQL (Kumar et al. 2020): the family's DQN trained from a dataset with CQL's regulariser.
    | Cql
    /// Offline CQL+C51: the same with C51's distribution over 51 atoms (Dopamine's offline C51 agents).
    | Cql_C51

/// Which value network a run trains (every layer's channels and units scaled by the width).
[<RequireQualifiedAccess>]
type NetworkKind =
    /// Two hidden layers of 128 units: classic control.
    | Mlp
    /// The MinAtar network (Young and Tian 2019): conv 16 3x3, dense 128.
    | MinAtar
    /// The Nature DQN network (Mnih et al. 2015), made for 84x84 frames.
    | Nature
    /// The Impala ResNet (Espeholt et al. 2018): 3 stacks of 16, 32, 32 channels, dense 512.
    | Impala

/// A named set of an agent's defaults (its hyperparameters and network initialisation), as an upstream
/// code base sets them; fields given with a run override it.
[<RequireQualifiedAccess>]
type PresetKind =
    /// Dopamine's gin files for the agent and environment family: on MinAtar
    /// (dopamine/labs/environments/minatar/dqn.gin, rainbow.gin), AgentConfig.dopamineMinatarDqn and
    /// dopamineMinatarRainbow; DER and DrQ(eps) dopamine/labs/atari_100k; Xavier-uniform initialisation.
    | Dopamine
    /// The MinAtar reference DQN (Young and Tian 2019, examples/dqn.py): AgentConfig.minatarDqn, PyTorch's
    /// default initialisation.
    | MinAtar_Reference
    /// Tuned for a classic-control task after the RL Baselines3 Zoo (CartPole's DQN, AgentConfig.cartpoleDqn;
    /// Pendulum's SAC, SacConfig.pendulum); PyTorch's default initialisation.
    | Zoo
    /// Soft actor-critic as Haarnoja et al. (2018b) set it (SacConfig.haarnoja).
    | Haarnoja
    /// Soft actor-critic as the pruning paper ran it, on google-research/rigl's rl/tfagents (SacConfig.rigl),
    /// width 5 on MuJoCo; Xavier-uniform (Keras's glorot_uniform) kernels and zero biases.
    | RigL

/// Which layers the width multiplier scales.
[<RequireQualifiedAccess>]
type WidthScope =
    /// The convolutions' channels (and an MLP's hidden layers, its whole torso); the dense layer after the
    /// convolutions keeps its units. The paper's: "we scaled the convolutional layers by a factor of 3"
    /// (Obando-Ceron et al. 2024, sec. 4), as Dopamine's ImpalaDQNNetwork, whose nn_scale multiplies the
    /// encoder's channels and leaves the 512-unit dense layer (dopamine/jax/networks.py).
    | Conv
    /// Every hidden layer, the dense one after the convolutions too: Dopamine labs/redo's networks.
    | All

/// How a value network's weights start.
[<RequireQualifiedAccess>]
type Initialization =
    /// Xavier-uniform kernels (Glorot and Bengio 2010: U(-b, b), b = sqrt(6 / (fan_in + fan_out))) and zero
    /// biases: Dopamine's networks (dopamine/jax/networks.py, `nn.initializers.xavier_uniform()` as every
    /// layer's kernel_init; flax's biases start at zero), and labs/redo's renewals (zero biases).
    | Xavier_Uniform
    /// PyTorch's default: kernels and biases from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with
    /// a = sqrt(5), and its bias rule): the MinAtar reference DQN's (examples/dqn.py), a PyTorch program.
    | Torch_Default

/// The ramp of the gradual pruning schedule (Schedule.Ramp).
[<RequireQualifiedAccess>]
type RampKind =
    /// Zhu and Gupta's polynomial ramp (1 - p)^power; the paper's is cubic.
    | Polynomial
    /// The linear ramp 1 - p: the polynomial ramp of power 1.
    | Linear
    /// The cosine ramp (1 + cos(pi p)) / 2.
    | Cosine

/// How the target sparsity spreads over the layers (Sparsity.Distribution).
[<RequireQualifiedAccess>]
type DistributionKind =
    /// The same sparsity in every pruned layer.
    | Uniform
    /// Erdos-Renyi-Kernel (Evci et al. 2020) with power scale 1.
    | Erk

/// A baseline the paper compares pruning with (its Figure 12 and Appendix G).
[<RequireQualifiedAccess>]
type BaselineKind =
    /// No baseline.
    | None
    /// Reset the last layers (Nikishin et al. 2022); dense networks.
    | Reset
    /// ReDo: recycle tau-dormant neurons (Sokar et al. 2023); dense networks.
    | Redo
    /// Decoupled weight decay (AdamW) of coefficient weight_decay; dense or pruned.
    | Wd
    /// An L2 term weight_decay * sum w^2 over the kernels in the loss; dense or pruned.
    | L2

/// Where a run's tensors live: auto takes CUDA when it is available.
[<RequireQualifiedAccess>]
type DeviceKind =
    /// CUDA when available, else the CPU.
    | Auto
    /// The CPU.
    | Cpu
    /// An NVIDIA GPU.
    | Cuda

/// The run's choices by the names files and flags give them. Each name is its case's name as Argu spells a
/// union case (spelling), so a flag typed by the choice's type reads the names config.json holds.
[<RequireQualifiedAccess>]
module Choices =

    /// A choice's name from its case's name: lower case, '_' as '-' (Argu's rule for a union case's name:
    /// Cql_C51 -> cql-c51).
    let spelling (caseName: string) : string = caseName.ToLowerInvariant().Replace('_', '-')

    /// The name a value has in a list of choices (agents, networks, distributions, baselines, devices by name).
    let nameIn (choices: (string * 'a) list) (x: 'a) : string = choices |> List.find (fun (_, y) -> y = x) |> fst

    /// The agents by name.
    let agents = [ "dqn", AgentKind.Dqn; "rainbow", AgentKind.Rainbow; "der", AgentKind.Der; "drq", AgentKind.Drq; "sac", AgentKind.Sac; "cql", AgentKind.Cql; "cql-c51", AgentKind.Cql_C51 ]

    /// The networks by name.
    let networks = [ "mlp", NetworkKind.Mlp; "minatar", NetworkKind.MinAtar; "nature", NetworkKind.Nature; "impala", NetworkKind.Impala ]

    /// The schedule's ramps by name.
    let ramps = [ "polynomial", RampKind.Polynomial; "linear", RampKind.Linear; "cosine", RampKind.Cosine ]

    /// The distributions by name.
    let distributions = [ "uniform", DistributionKind.Uniform; "erk", DistributionKind.Erk ]

    /// The baselines by name.
    let baselines = [ "none", BaselineKind.None; "reset", BaselineKind.Reset; "redo", BaselineKind.Redo; "wd", BaselineKind.Wd; "l2", BaselineKind.L2 ]

    /// The presets by name.
    let presets = [ "dopamine", PresetKind.Dopamine; "minatar-reference", PresetKind.MinAtar_Reference; "zoo", PresetKind.Zoo; "haarnoja", PresetKind.Haarnoja; "rigl", PresetKind.RigL ]

    /// The width scopes by name.
    let widthScopes = [ "conv", WidthScope.Conv; "all", WidthScope.All ]

    /// The initialisations by name.
    let initializations = [ "xavier-uniform", Initialization.Xavier_Uniform; "torch-default", Initialization.Torch_Default ]

    /// The per-layer timings by name.
    let layerSchedules = [ "scaled", Scaled; "resolved", Resolved ]

    /// The sparse-training methods by name (SparseMethod.name: gmp, static, lottery, set, rigl).
    let methods = SparseMethod.all |> List.map (fun m -> SparseMethod.name m, m)

    /// The devices by name.
    let devices = [ "auto", DeviceKind.Auto; "cpu", DeviceKind.Cpu; "cuda", DeviceKind.Cuda ]

    /// The TD losses by name.
    let losses = [ "squared", TdLoss.Squared; "huber", TdLoss.Huber ]

    /// Prioritized replay's draws by name.
    let prioritySamplings = [ "iid", PrioritySampling.Iid; "stratified", PrioritySampling.Stratified ]
