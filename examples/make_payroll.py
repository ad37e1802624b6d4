"""Write ``examples/payroll.csv``: a seeded, realistic payroll of Mexican employees.

``python examples/make_payroll.py [--rows 3000] [--seed 2026] [--out examples/payroll.csv]``

Every run with the same seed writes the same file. Amounts are built from integer
cents, so no float ever touches them. About 2 % of rows require confirmation
(contractors whose payout a manager releases), and the ``name`` column shows that
columns the command does not use are ignored.
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from decimal import Decimal
from pathlib import Path

FIRST_NAMES = (
    "José", "María", "Juan", "Guadalupe", "Francisco", "Juana", "Antonio", "Margarita",
    "Jesús", "Verónica", "Alejandro", "Leticia", "Miguel", "Rosa", "Pedro", "Adriana",
    "Manuel", "Alejandra", "Ricardo", "Patricia", "Fernando", "Elizabeth", "Jorge",
    "Gabriela", "Roberto", "Alicia", "Eduardo", "Araceli", "Carlos", "Silvia", "Luis",
    "Fernanda", "Sergio", "Claudia", "Arturo", "Ximena", "Javier", "Daniela", "Raúl",
    "Sofía", "Ramón", "Valeria", "Héctor", "Itzel", "Diego", "Citlali", "Emiliano",
    "Regina", "Santiago", "Renata", "Mateo", "Camila", "Rodrigo", "Andrea", "Óscar",
    "Mónica", "Iván", "Lucía", "Gerardo", "Paola", "Armando", "Yolanda", "Cuauhtémoc",
    "Xóchitl", "Salvador", "Norma", "Enrique", "Beatriz", "Rafael", "Karla",
)
SURNAMES = (
    "Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez",
    "Sánchez", "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes",
    "Jiménez", "Torres", "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz",
    "Moreno", "Castillo", "Romero", "Álvarez", "Méndez", "Chávez", "Rivera", "Juárez",
    "Ramos", "Domínguez", "Herrera", "Medina", "Castro", "Vargas", "Guzmán", "Velázquez",
    "Muñoz", "Rojas", "Contreras", "Salazar", "Luna", "Ortega", "Santiago", "Guerrero",
    "Estrada", "Bautista", "Cortés", "Soto", "Alvarado", "Espinoza", "Lara", "Ávila",
    "Ríos", "Cervantes", "Silva", "Delgado", "Vega", "Márquez", "Sandoval", "Fuentes",
    "Carrillo", "León", "Ayala", "Mejía", "Solís", "Rosas", "Navarro", "Quintero",
)
DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.mx", "icloud.com",
           "prodigy.net.mx", "live.com.mx")
# Semi-monthly pay (quincena) in MXN: (share of staff, low, high) in whole pesos.
BANDS = ((0.45, 4_200, 9_500), (0.35, 9_500, 22_000), (0.15, 22_000, 48_000),
         (0.05, 48_000, 125_000))


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def salary(rng: random.Random) -> Decimal:
    pick = rng.random()
    band = BANDS[-1]
    for band in BANDS:
        if pick < band[0]:
            break
        pick -= band[0]
    _, low, high = band
    cents = rng.randrange(low * 100, high * 100)
    if rng.random() < 0.3:
        cents -= cents % 100  # some salaries are round pesos
    return Decimal(cents).scaleb(-2)


def rows(count: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    used: set[str] = set()
    out = []
    for number in range(1, count + 1):
        first = rng.choice(FIRST_NAMES)
        surname1, surname2 = rng.sample(SURNAMES, 2)
        base = f"{ascii_slug(first)}.{ascii_slug(surname1)}"
        email = f"{base}@{rng.choice(DOMAINS)}"
        while email in used:
            email = f"{base}{rng.randrange(1, 999)}@{rng.choice(DOMAINS)}"
        used.add(email)
        out.append({
            "name": f"{first} {surname1} {surname2}",
            "email": email,
            "amount": f"{salary(rng):.2f}",
            "currency": "MXN",
            "reference_id": f"payroll-2026-11-{number:04d}",
            "require_confirmation": "true" if rng.random() < 0.02 else "false",
        })
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("payroll.csv"))
    args = parser.parse_args()
    data = rows(args.rows, args.seed)
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    total = sum(Decimal(row["amount"]) for row in data)
    print(f"wrote {len(data)} rows to {args.out} (total {total:,} MXN)")


if __name__ == "__main__":
    main()
