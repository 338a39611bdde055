using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Envs.MinAtar;

/// <summary>
/// MinAtar Seaquest (the reference seaquest.py). The player's submarine (front and back cells, so its
/// heading shows) moves in rows 0 to 8 and fires bullets ahead of it; fish and enemy submarines cross
/// the rows, subs firing bullets; +1 for each enemy a bullet strikes. Divers cross too and are picked
/// up by moving onto them (six at most). Oxygen drains while under water; coming up to row 0 with at
/// least one diver refills it, costs one diver and ramps the difficulty; coming up with six gives a
/// bonus of one point per tenth of oxygen left. The game ends when an enemy or enemy bullet touches
/// the sub, when oxygen runs out, or on surfacing with no divers. Row 9 holds the oxygen and diver
/// gauges; a trail channel marks the cell each enemy and diver came from.
/// </summary>
public sealed class Seaquest : MinAtarGame
{
    /// <summary>Channel indices, as in the reference.</summary>
    public const int SubFront = 0, SubBack = 1, FriendlyBullet = 2, Trail = 3, EnemyBullet = 4,
        EnemyFish = 5, EnemySub = 6, OxygenGauge = 7, DiverGauge = 8, Diver = 9;

    /// <summary>Full oxygen.</summary>
    public const int MaxOxygen = 200;

    /// <summary>Divers the sub can carry.</summary>
    public const int MaxDivers = 6;

    private const int InitialSpawnSpeed = 20;
    private const int DiverSpawnSpeed = 30;
    private const int InitialMoveInterval = 5;
    private const int ShotCoolDown = 5;
    private const int EnemyShotInterval = 10;
    private const int DiverMoveInterval = 5;

    private static readonly MinAtarAction[] MinimalActions =
        [MinAtarAction.NoOp, MinAtarAction.Left, MinAtarAction.Up, MinAtarAction.Right, MinAtarAction.Down, MinAtarAction.Fire];

    // The reference keeps Python lists of moving things and removes from them by value while walking
    // them backwards; these lists reproduce that (see MoverList), with room made once.
    private readonly MoverList friendlyBullets = new();
    private readonly MoverList enemyBullets = new();
    private readonly MoverList fish = new();
    private readonly MoverList enemySubs = new();
    private readonly MoverList divers = new();

    private int oxygen;
    private int diverCount;
    private int subX, subY;
    private bool subFacingRight;
    private int enemySpawnSpeed, enemySpawnTimer, diverSpawnTimer;
    private int moveInterval;
    private int rampIndex;
    private int shotTimer;
    private bool surfaced;
    private bool terminal;

    public Seaquest(EnvironmentOptions options) : base("minatar/seaquest", 10, MinimalActions, options) { }

    /// <summary>How many times the difficulty has ramped up this episode (the reference's difficulty_ramp()).</summary>
    public int DifficultyRamp => rampIndex;

    protected override void SaveGame(StateWriter writer)
    {
        foreach (var movers in (MoverList[])[friendlyBullets, enemyBullets, fish, enemySubs, divers]) movers.Save(writer);
        foreach (var value in (int[])[oxygen, diverCount, subX, subY, enemySpawnSpeed, enemySpawnTimer, diverSpawnTimer, moveInterval, rampIndex, shotTimer])
            writer.Write(value);
        writer.Write(subFacingRight);
        writer.Write(surfaced);
        writer.Write(terminal);
    }

    protected override void LoadGame(StateReader reader)
    {
        foreach (var movers in (MoverList[])[friendlyBullets, enemyBullets, fish, enemySubs, divers]) movers.Load(reader);
        (oxygen, diverCount, subX, subY, enemySpawnSpeed) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        (enemySpawnTimer, diverSpawnTimer, moveInterval, rampIndex, shotTimer) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        (subFacingRight, surfaced, terminal) = (reader.ReadBoolean(), reader.ReadBoolean(), reader.ReadBoolean());
    }

    protected override void ResetGame()
    {
        oxygen = MaxOxygen;
        diverCount = 0;
        subX = 5;
        subY = 0;
        subFacingRight = false;
        friendlyBullets.Clear();
        enemyBullets.Clear();
        fish.Clear();
        enemySubs.Clear();
        divers.Clear();
        enemySpawnSpeed = InitialSpawnSpeed;
        enemySpawnTimer = enemySpawnSpeed;
        diverSpawnTimer = DiverSpawnSpeed;
        moveInterval = InitialMoveInterval;
        rampIndex = 0;
        shotTimer = 0;
        surfaced = true;
        terminal = false;
    }

    protected override (float Reward, bool Terminal) Act(MinAtarAction action)
    {
        if (enemySpawnTimer == 0)
        {
            SpawnEnemy();
            enemySpawnTimer = enemySpawnSpeed;
        }
        if (diverSpawnTimer == 0)
        {
            SpawnDiver();
            diverSpawnTimer = DiverSpawnSpeed;
        }
        MovePlayer(action);
        var reward = MoveFriendlyBullets();
        MoveDivers();
        reward += MoveEnemySubs();
        MoveEnemyBullets();
        reward += MoveFish();
        reward += TickTimersAndOxygen();
        return (reward, terminal);
    }

    private void MovePlayer(MinAtarAction action)
    {
        // Fire while reloading does nothing (it does not fall through to a move).
        if (action == MinAtarAction.Fire && shotTimer == 0)
        {
            friendlyBullets.Add(new Mover(subX, subY, subFacingRight));
            shotTimer = ShotCoolDown;
        }
        else if (action == MinAtarAction.Left)
        {
            subX = Math.Max(0, subX - 1);
            subFacingRight = false;
        }
        else if (action == MinAtarAction.Right)
        {
            subX = Math.Min(9, subX + 1);
            subFacingRight = true;
        }
        else if (action == MinAtarAction.Up) subY = Math.Max(0, subY - 1);
        else if (action == MinAtarAction.Down) subY = Math.Min(8, subY + 1);
    }

    // Each loop below walks its list from the end as Python's reversed() does: it stops early if the
    // list has shrunk below the next index (never the case here, as at most one element goes per turn).

    private int MoveFriendlyBullets()
    {
        var reward = 0;
        for (var i = friendlyBullets.Count - 1; i >= 0 && i < friendlyBullets.Count; i--)
        {
            ref var bullet = ref friendlyBullets[i];
            bullet.X += bullet.Direction;
            if (OffScreen(bullet.X))
            {
                friendlyBullets.RemoveEqualTo(i);
                continue;
            }
            // A fish struck first; otherwise a sub.
            var struck = fish.IndexAt(bullet.X, bullet.Y);
            var enemies = fish;
            if (struck < 0)
            {
                struck = enemySubs.IndexAt(bullet.X, bullet.Y);
                enemies = enemySubs;
            }
            if (struck >= 0)
            {
                enemies.RemoveEqualTo(struck);
                friendlyBullets.RemoveEqualTo(i);
                reward++;
            }
        }
        return reward;
    }

    private void MoveDivers()
    {
        for (var i = divers.Count - 1; i >= 0 && i < divers.Count; i--)
        {
            ref var diver = ref divers[i];
            if (IsPlayerAt(diver) && diverCount < MaxDivers)
            {
                divers.RemoveEqualTo(i);
                diverCount++;
            }
            else if (diver.MoveTimer == 0)
            {
                diver.MoveTimer = DiverMoveInterval;
                diver.X += diver.Direction;
                if (OffScreen(diver.X)) divers.RemoveEqualTo(i);
                else if (IsPlayerAt(diver) && diverCount < MaxDivers)
                {
                    divers.RemoveEqualTo(i);
                    diverCount++;
                }
            }
            else diver.MoveTimer--;
        }
    }

    private int MoveEnemySubs()
    {
        var reward = 0;
        for (var i = enemySubs.Count - 1; i >= 0 && i < enemySubs.Count; i--)
        {
            // The reference goes on with a sub after taking it off the list (off screen or shot): it
            // still counts down its gun and fires this turn. `at` tracks where it is, -1 once gone.
            var at = i;
            var sub = enemySubs[i];
            if (IsPlayerAt(sub)) terminal = true;
            if (sub.MoveTimer == 0)
            {
                sub.MoveTimer = moveInterval;
                sub.X += sub.Direction;
                enemySubs[i] = sub;
                at = MoveEnemy(enemySubs, i, ref reward);
            }
            else sub.MoveTimer--;
            if (sub.ShotTimer == 0)
            {
                sub.ShotTimer = EnemyShotInterval;
                enemyBullets.Add(new Mover(sub.X, sub.Y, sub.MovingRight));
            }
            else sub.ShotTimer--;
            if (at >= 0) enemySubs[at] = sub;
        }
        return reward;
    }

    private void MoveEnemyBullets()
    {
        for (var i = enemyBullets.Count - 1; i >= 0 && i < enemyBullets.Count; i--)
        {
            ref var bullet = ref enemyBullets[i];
            if (IsPlayerAt(bullet)) terminal = true;
            bullet.X += bullet.Direction;
            if (OffScreen(bullet.X)) enemyBullets.RemoveEqualTo(i);
            else if (IsPlayerAt(bullet)) terminal = true;
        }
    }

    private int MoveFish()
    {
        var reward = 0;
        for (var i = fish.Count - 1; i >= 0 && i < fish.Count; i--)
        {
            ref var one = ref fish[i];
            if (IsPlayerAt(one)) terminal = true;
            if (one.MoveTimer == 0)
            {
                one.MoveTimer = moveInterval;
                one.X += one.Direction;
                MoveEnemy(fish, i, ref reward);
            }
            else one.MoveTimer--;
        }
        return reward;
    }

    /// <summary>
    /// After enemy <paramref name="i"/> of <paramref name="enemies"/> has stepped: it leaves the screen,
    /// rams the player, or runs into a friendly bullet (the first in the list on its cell; both go, +1).
    /// Where the enemy is now (-1 once it has left the list).
    /// </summary>
    private int MoveEnemy(MoverList enemies, int i, ref int reward)
    {
        var enemy = enemies[i];
        if (OffScreen(enemy.X)) return enemies.RemoveEqualTo(i);
        if (IsPlayerAt(enemy))
        {
            terminal = true;
            return i;
        }
        var bullet = friendlyBullets.IndexAt(enemy.X, enemy.Y);
        if (bullet < 0) return i;
        var at = enemies.RemoveEqualTo(i);
        friendlyBullets.RemoveEqualTo(bullet);
        reward++;
        return at;
    }

    private int TickTimersAndOxygen()
    {
        if (enemySpawnTimer > 0) enemySpawnTimer--;
        if (diverSpawnTimer > 0) diverSpawnTimer--;
        if (shotTimer > 0) shotTimer--;
        // Oxygen is checked before this turn's breath: the turn after it reaches 0 ends the game.
        if (oxygen <= 0) terminal = true;
        if (subY > 0)
        {
            oxygen--;
            surfaced = false;
            return 0;
        }
        if (surfaced) return 0;
        if (diverCount == 0)
        {
            terminal = true;
            return 0;
        }
        return Surface();
    }

    /// <summary>Coming up with divers: the bonus for a full load, fresh oxygen, one diver fewer, harder enemies.</summary>
    private int Surface()
    {
        surfaced = true;
        var reward = 0;
        if (diverCount == MaxDivers)
        {
            diverCount = 0;
            reward = oxygen * 10 / MaxOxygen;
        }
        oxygen = MaxOxygen;
        // As the reference: one diver off even after a full load, which leaves the count at -1 (so the
        // next bonus takes seven divers, and surfacing at a count below 0 does not end the game).
        diverCount--;
        if (Ramping && (enemySpawnSpeed > 1 || moveInterval > 2))
        {
            if (moveInterval > 2 && rampIndex % 2 == 1) moveInterval--;
            if (enemySpawnSpeed > 1) enemySpawnSpeed--;
            rampIndex++;
        }
        return reward;
    }

    /// <summary>
    /// A fish or (one time in three) an enemy sub at either edge of a random row 1 to 8, heading across;
    /// none if an enemy in that row heads the other way. All three draws are made either way.
    /// </summary>
    private void SpawnEnemy()
    {
        var movingRight = Random.Chance(0.5);
        var isSub = Random.Chance(1.0 / 3);
        var x = movingRight ? 0 : 9;
        var y = 1 + Random.NextInt(8);
        if (enemySubs.AnyInRowHeading(y, !movingRight) || fish.AnyInRowHeading(y, !movingRight)) return;
        if (isSub) enemySubs.Add(new Mover(x, y, movingRight, moveInterval, EnemyShotInterval));
        else fish.Add(new Mover(x, y, movingRight, moveInterval));
    }

    /// <summary>A diver at either edge of a random row 1 to 8, heading across.</summary>
    private void SpawnDiver()
    {
        var movingRight = Random.Chance(0.5);
        var x = movingRight ? 0 : 9;
        var y = 1 + Random.NextInt(8);
        divers.Add(new Mover(x, y, movingRight, DiverMoveInterval));
    }

    private bool IsPlayerAt(in Mover mover) => mover.X == subX && mover.Y == subY;

    private static bool OffScreen(int x) => x < 0 || x > 9;

    protected override void Draw(Span<float> observation)
    {
        Set(observation, SubFront, subY, subX);
        // The sub faces the way it last moved, so its back is always on the grid.
        Set(observation, SubBack, subY, subFacingRight ? subX - 1 : subX + 1);
        var oxygenCells = Math.Max(0, oxygen) * 10 / MaxOxygen;
        for (var x = 0; x < oxygenCells; x++) Set(observation, OxygenGauge, 9, x);
        // Divers fill columns 9 - count to 8 (none when the count is 0 or below).
        for (var x = 9 - diverCount; x < 9; x++) Set(observation, DiverGauge, 9, x);
        DrawAll(observation, friendlyBullets, FriendlyBullet, withTrail: false);
        DrawAll(observation, enemyBullets, EnemyBullet, withTrail: false);
        DrawAll(observation, fish, EnemyFish, withTrail: true);
        DrawAll(observation, enemySubs, EnemySub, withTrail: true);
        DrawAll(observation, divers, Diver, withTrail: true);
    }

    private static void DrawAll(Span<float> observation, MoverList movers, int channel, bool withTrail)
    {
        for (var i = 0; i < movers.Count; i++)
        {
            var mover = movers[i];
            Set(observation, channel, mover.Y, mover.X);
            var behind = mover.X - mover.Direction;
            if (withTrail && !OffScreen(behind)) Set(observation, Trail, mover.Y, behind);
        }
    }

    // Setting up states for tests (the reference's fields, by name).

    internal int Oxygen { get => oxygen; set => oxygen = value; }
    internal int DiverCount { get => diverCount; set => diverCount = value; }
    internal bool Surfaced { get => surfaced; set => surfaced = value; }
    internal int EnemySpawnTimer { get => enemySpawnTimer; set => enemySpawnTimer = value; }
    internal int DiverSpawnTimer { get => diverSpawnTimer; set => diverSpawnTimer = value; }
    internal int ShotTimer { get => shotTimer; set => shotTimer = value; }
    internal int EnemySpawnSpeed => enemySpawnSpeed;
    internal int MoveInterval => moveInterval;
    internal (int X, int Y) Player => (subX, subY);
    internal int FishCount => fish.Count;
    internal int EnemySubCount => enemySubs.Count;
    internal int DiverListCount => divers.Count;

    /// <summary>Puts the player's sub at (x, y), facing the way it would have had to move to get there.</summary>
    internal void PlacePlayer(int x, int y, bool facingRight)
    {
        if (y is < 0 or > 8 || (facingRight ? x is < 1 or > 9 : x is < 0 or > 8))
            throw new ArgumentOutOfRangeException(nameof(x), $"the sub cannot be at ({x}, {y}) facing {(facingRight ? "right" : "left")}");
        (subX, subY, subFacingRight) = (x, y, facingRight);
    }

    internal void PlaceFish(int x, int y, bool movingRight, int moveTimer) => fish.Add(new Mover(x, y, movingRight, moveTimer));

    internal void PlaceEnemySub(int x, int y, bool movingRight, int moveTimer, int shotTimer) =>
        enemySubs.Add(new Mover(x, y, movingRight, moveTimer, shotTimer));

    internal void PlaceDiver(int x, int y, bool movingRight, int moveTimer) => divers.Add(new Mover(x, y, movingRight, moveTimer));

    internal void PlaceFriendlyBullet(int x, int y, bool movingRight) => friendlyBullets.Add(new Mover(x, y, movingRight));

    internal void PlaceEnemyBullet(int x, int y, bool movingRight) => enemyBullets.Add(new Mover(x, y, movingRight));

    /// <summary>
    /// One moving thing as the reference's lists hold it: [x, y, heading] for bullets, plus a move timer
    /// for fish and divers, plus a shot timer for enemy subs (unused fields stay 0, so equality is the
    /// reference's list equality within one list).
    /// </summary>
    internal struct Mover(int x, int y, bool movingRight, int moveTimer = 0, int shotTimer = 0) : IEquatable<Mover>
    {
        public int X = x;
        public readonly int Y = y;
        public readonly bool MovingRight = movingRight;
        public int MoveTimer = moveTimer;
        public int ShotTimer = shotTimer;

        /// <summary>+1 heading right, -1 heading left.</summary>
        public readonly int Direction => MovingRight ? 1 : -1;

        public readonly bool Equals(Mover other) =>
            X == other.X && Y == other.Y && MovingRight == other.MovingRight && MoveTimer == other.MoveTimer && ShotTimer == other.ShotTimer;

        public override readonly bool Equals(object? obj) => obj is Mover other && Equals(other);

        public override readonly int GetHashCode() => HashCode.Combine(X, Y, MovingRight, MoveTimer, ShotTimer);
    }

    /// <summary>
    /// A Python list of movers without the allocations: order kept, removal by value (list.remove takes
    /// out the FIRST element equal to the one given, which can be an earlier twin of it). The array
    /// grows only if a game ever outgrows its room (in practice at most about 60 enemies are alive).
    /// </summary>
    internal sealed class MoverList
    {
        private Mover[] items = new Mover[128];

        public int Count { get; private set; }

        public ref Mover this[int index] => ref items[index];

        public void Clear() => Count = 0;

        /// <summary>Writes the movers in order, each as its five fields.</summary>
        public void Save(StateWriter writer)
        {
            writer.Write(Count);
            for (var i = 0; i < Count; i++)
            {
                var mover = items[i];
                foreach (var value in (int[])[mover.X, mover.Y, mover.MovingRight ? 1 : 0, mover.MoveTimer, mover.ShotTimer]) writer.Write(value);
            }
        }

        /// <summary>Replaces the movers with those <see cref="Save"/> wrote.</summary>
        public void Load(StateReader reader)
        {
            var count = reader.ReadInt32();
            if (count < 0) throw reader.Problem($"a list of {count} movers");
            Clear();
            for (var i = 0; i < count; i++)
                Add(new Mover(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32() != 0, reader.ReadInt32(), reader.ReadInt32()));
        }

        public void Add(Mover mover)
        {
            if (Count == items.Length) Array.Resize(ref items, 2 * items.Length);
            items[Count++] = mover;
        }

        /// <summary>
        /// Python's list.remove(self[current]): removes the first element equal to it. Returns where the
        /// element that was at <paramref name="current"/> is now, or -1 if it was the one removed.
        /// </summary>
        public int RemoveEqualTo(int current)
        {
            var first = 0;
            while (!items[first].Equals(items[current])) first++;
            Array.Copy(items, first + 1, items, first, Count - first - 1);
            Count--;
            return first == current ? -1 : current - 1;
        }

        /// <summary>The first element on cell (x, y), or -1.</summary>
        public int IndexAt(int x, int y)
        {
            for (var i = 0; i < Count; i++)
                if (items[i].X == x && items[i].Y == y) return i;
            return -1;
        }

        /// <summary>Whether any element in row y heads the given way.</summary>
        public bool AnyInRowHeading(int y, bool movingRight)
        {
            for (var i = 0; i < Count; i++)
                if (items[i].Y == y && items[i].MovingRight == movingRight) return true;
            return false;
        }
    }
}
