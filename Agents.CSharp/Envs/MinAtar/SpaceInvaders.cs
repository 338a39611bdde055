using System.Numerics;
using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Envs.MinAtar;

/// <summary>
/// MinAtar Space Invaders (the reference space_invaders.py). A cannon on the bottom row shoots upward
/// at a block of aliens that marches sideways, stepping down and turning at the edges, and fires back
/// from the alien nearest the cannon. +1 per alien shot. The aliens march faster as they thin out (one
/// cell per turn when one is left); a cleared wave is replaced by a new one, which (with ramping)
/// marches a little faster than the last. The game ends when an alien or an alien's bullet reaches the
/// cannon, or when the aliens must step down from the bottom row.
/// </summary>
public sealed class SpaceInvaders : MinAtarGame
{
    /// <summary>Channel indices, as in the reference.</summary>
    public const int Cannon = 0, Alien = 1, AlienLeft = 2, AlienRight = 3, FriendlyBullet = 4, EnemyBullet = 5;

    private const int ShotCoolDown = 5;
    private const int InitialEnemyMoveInterval = 12;
    private const int FastestEnemyMoveInterval = 6;
    private const int EnemyShotInterval = 10;

    private static readonly MinAtarAction[] MinimalActions =
        [MinAtarAction.NoOp, MinAtarAction.Left, MinAtarAction.Right, MinAtarAction.Fire];

    // The three 10x10 maps as 100-bit masks: cell (y, x) is bit 10 y + x.
    private static readonly UInt128 AllCells = (UInt128.One << 100) - 1;
    private static readonly UInt128 BottomRow = ((UInt128)0x3FF) << 90;
    private static readonly UInt128 LeftColumn = ColumnMask(0);
    private static readonly UInt128 RightColumn = ColumnMask(9);
    /// <summary>A fresh wave: rows 0 to 3, columns 2 to 7.</summary>
    private static readonly UInt128 Wave = BlockMask(rows: 4, fromColumn: 2, toColumn: 7);

    private UInt128 aliens, friendlyBullets, enemyBullets;
    private int cannon;
    private int alienDirection;
    private int enemyMoveInterval;
    private int alienMoveTimer, alienShotTimer;
    private int rampIndex;
    private int shotTimer;
    private bool terminal;

    public SpaceInvaders(EnvironmentOptions options) : base("minatar/space_invaders", 6, MinimalActions, options) { }

    /// <summary>How many times the difficulty has ramped up this episode (the reference's difficulty_ramp()).</summary>
    public int DifficultyRamp => rampIndex;

    protected override void SaveGame(StateWriter writer)
    {
        writer.Write<UInt128>([aliens, friendlyBullets, enemyBullets]);
        foreach (var value in (int[])[cannon, alienDirection, enemyMoveInterval, alienMoveTimer, alienShotTimer, rampIndex, shotTimer])
            writer.Write(value);
        writer.Write(terminal);
    }

    protected override void LoadGame(StateReader reader)
    {
        Span<UInt128> maps = stackalloc UInt128[3];
        reader.ReadInto(maps);
        (aliens, friendlyBullets, enemyBullets) = (maps[0], maps[1], maps[2]);
        (cannon, alienDirection, enemyMoveInterval, alienMoveTimer) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        (alienShotTimer, rampIndex, shotTimer) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        terminal = reader.ReadBoolean();
    }

    protected override void ResetGame()
    {
        cannon = 5;
        friendlyBullets = UInt128.Zero;
        enemyBullets = UInt128.Zero;
        aliens = Wave;
        alienDirection = -1;
        enemyMoveInterval = InitialEnemyMoveInterval;
        alienMoveTimer = enemyMoveInterval;
        alienShotTimer = EnemyShotInterval;
        rampIndex = 0;
        shotTimer = 0;
        terminal = false;
    }

    protected override (float Reward, bool Terminal) Act(MinAtarAction action)
    {
        // The cannon's bullet starts on the bottom row and moves up at once.
        if (action == MinAtarAction.Fire && shotTimer == 0)
        {
            friendlyBullets |= Cell(9, cannon);
            shotTimer = ShotCoolDown;
        }
        else if (action == MinAtarAction.Left) cannon = Math.Max(0, cannon - 1);
        else if (action == MinAtarAction.Right) cannon = Math.Min(9, cannon + 1);

        friendlyBullets >>= 10;                            // up a row; the top row's leave
        enemyBullets = (enemyBullets << 10) & AllCells;    // down a row; the bottom row's leave
        if (IsSet(enemyBullets, 9, cannon)) terminal = true;

        if (IsSet(aliens, 9, cannon)) terminal = true;
        if (alienMoveTimer == 0)
        {
            MarchAliens();
            if (IsSet(aliens, 9, cannon)) terminal = true;
        }
        if (alienShotTimer == 0)
        {
            alienShotTimer = EnemyShotInterval;
            enemyBullets |= NearestAlienToFire();
        }

        var kills = aliens & friendlyBullets;
        var reward = (int)UInt128.PopCount(kills);
        aliens &= ~kills;
        friendlyBullets &= ~kills;

        if (shotTimer > 0) shotTimer--;
        alienMoveTimer--;
        alienShotTimer--;
        if (aliens == UInt128.Zero)
        {
            if (enemyMoveInterval > FastestEnemyMoveInterval && Ramping)
            {
                enemyMoveInterval--;
                rampIndex++;
            }
            aliens = Wave;
        }
        return (reward, terminal);
    }

    /// <summary>
    /// One march: sideways, or, when an alien stands at the edge it heads for, turn and step down a row
    /// (ending the game if any alien is on the bottom row, which then wraps to the top as numpy's roll
    /// does). The next march waits one turn per alien left, at most the move interval.
    /// </summary>
    private void MarchAliens()
    {
        alienMoveTimer = Math.Min((int)UInt128.PopCount(aliens), enemyMoveInterval);
        if (((aliens & LeftColumn) != 0 && alienDirection < 0) || ((aliens & RightColumn) != 0 && alienDirection > 0))
        {
            alienDirection = -alienDirection;
            if ((aliens & BottomRow) != 0) terminal = true;
            aliens = ((aliens << 10) & AllCells) | (aliens >> 90);
        }
        else if (alienDirection > 0) aliens = ((aliens & ~RightColumn) << 1) | ((aliens & RightColumn) >> 9);
        else aliens = ((aliens & ~LeftColumn) >> 1) | ((aliens & LeftColumn) << 9);
    }

    /// <summary>
    /// The cell of the lowest alien in the occupied column nearest the cannon (of two equally near, the
    /// left one), where the aliens' bullet starts. There is always an alien here: an empty map is
    /// refilled at the end of each turn.
    /// </summary>
    private UInt128 NearestAlienToFire()
    {
        var occupiedColumns = 0;
        for (var rows = aliens; rows != 0; rows >>= 10) occupiedColumns |= (int)(ulong)(rows & 0x3FFu);
        for (var distance = 0; distance < Size; distance++)
        {
            if (IsOccupied(occupiedColumns, cannon - distance)) return LowestAlienIn(cannon - distance);
            if (IsOccupied(occupiedColumns, cannon + distance)) return LowestAlienIn(cannon + distance);
        }
        throw new InvalidOperationException("no alien to fire");
    }

    private static bool IsOccupied(int columns, int x) => x is >= 0 and < Size && (columns >> x & 1) != 0;

    private UInt128 LowestAlienIn(int x)
    {
        var y = Size - 1;
        while (!IsSet(aliens, y, x)) y--;
        return Cell(y, x);
    }

    protected override void Draw(Span<float> observation)
    {
        Set(observation, Cannon, 9, cannon);
        DrawMask(observation, Alien, aliens);
        DrawMask(observation, alienDirection < 0 ? AlienLeft : AlienRight, aliens);
        DrawMask(observation, FriendlyBullet, friendlyBullets);
        DrawMask(observation, EnemyBullet, enemyBullets);
    }

    private static void DrawMask(Span<float> observation, int channel, UInt128 mask)
    {
        var plane = observation.Slice(channel * Size * Size, Size * Size);
        var low = (ulong)mask;
        var high = (ulong)(mask >> 64);
        for (; low != 0; low &= low - 1) plane[BitOperations.TrailingZeroCount(low)] = 1f;
        for (; high != 0; high &= high - 1) plane[64 + BitOperations.TrailingZeroCount(high)] = 1f;
    }

    private static UInt128 Cell(int y, int x) => UInt128.One << (y * Size + x);

    private static bool IsSet(UInt128 mask, int y, int x) => (mask & Cell(y, x)) != 0;

    private static UInt128 ColumnMask(int x) => BlockMask(Size, x, x);

    private static UInt128 BlockMask(int rows, int fromColumn, int toColumn)
    {
        var mask = UInt128.Zero;
        for (var y = 0; y < rows; y++)
            for (var x = fromColumn; x <= toColumn; x++) mask |= Cell(y, x);
        return mask;
    }

    // Setting up states for tests (the reference's fields, by name).

    internal int CannonPosition { get => cannon; set => cannon = value; }
    internal int AlienDirection { get => alienDirection; set => alienDirection = value; }
    internal int AlienMoveTimer { get => alienMoveTimer; set => alienMoveTimer = value; }
    internal int AlienShotTimer { get => alienShotTimer; set => alienShotTimer = value; }
    internal int ShotTimer { get => shotTimer; set => shotTimer = value; }
    internal int EnemyMoveInterval => enemyMoveInterval;
    internal int AlienCount => (int)UInt128.PopCount(aliens);

    internal void ClearAliens() => aliens = UInt128.Zero;
    internal void PlaceAlien(int y, int x) => aliens |= Cell(y, x);
    internal void PlaceFriendlyBullet(int y, int x) => friendlyBullets |= Cell(y, x);
    internal void PlaceEnemyBullet(int y, int x) => enemyBullets |= Cell(y, x);
}
