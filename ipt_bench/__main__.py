import sys

from ipt_bench.cli.main import main

sys.exit(main())
